import execlab as ex


def test_public_names_exist():
    for name in ex.__all__:
        assert hasattr(ex, name), name

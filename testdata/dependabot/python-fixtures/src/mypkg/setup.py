"""Sphinx extension hook of mypkg: a module called setup.py that is not a packaging script."""


def setup(app):
    app.add_config_value("mypkg_theme", "light", "html")
    return {"parallel_read_safe": True}

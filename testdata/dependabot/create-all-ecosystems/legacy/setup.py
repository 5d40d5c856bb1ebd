from setuptools import setup
setup(name="legacy")

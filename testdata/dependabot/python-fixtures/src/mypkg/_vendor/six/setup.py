from setuptools import setup
setup(name="six")

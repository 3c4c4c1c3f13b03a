"""Build hook: a wheel carries the project's data folders as edi_recruit/resources/.

Everything else about the package is declared in pyproject.toml.  The folder
list must equal tasks.core.paths.RESOURCE_FOLDERS (a test checks it).
"""
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

RESOURCE_FOLDERS = ("sql", "expectations", "mappings", "reference", "config", "effects")


class BuildWithResources(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads the folders from the checkout
        dest = Path(self.build_lib) / "edi_recruit" / "resources"
        for name in RESOURCE_FOLDERS:
            shutil.copytree(Path(__file__).parent / name, dest / name, dirs_exist_ok=True)


setup(cmdclass={"build_py": BuildWithResources})

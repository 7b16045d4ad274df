"""gankit: the classic GAN zoo on one trainer, with evaluation built in.

Command line: ``gankit list | train | sample | eval | bench``. In Python::

    from gankit.config import resolve
    from gankit.registry import get_model
    from gankit.train.trainer import Trainer

    config = resolve({"model": "dcgan", "data": {"name": "digits"}, "train": {"steps": 500}},
                     get_model("dcgan").Options)
    Trainer(config, run_dir=pathlib.Path("runs/my-dcgan")).fit()
"""

__version__ = "0.1.0"

"""The ``gankit`` command line: list, train, sample, translate, inpaint, encode, upscale, eval, bench, report,
classifier."""
from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from pathlib import Path
from typing import Optional, Sequence

from gankit.errors import GankitError

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130
FAMILY_ORDER = ("unconditional", "conditional", "semi-supervised", "clustering", "encoder", "translation",
                "inpainting", "coupled", "superres")
RUN_DATA_ROOT_HELP = ("where the run's data is now, if it has moved (default: the folder recorded in its "
                      "config.yaml, which stays unchanged)")


def _cmd_list(args) -> int:
    from gankit.catalogue import DATASETS, model_entries

    models = model_entries()  # read from the model files' source: listing need not import torch
    width = max(map(len, models))
    present = {entry.family for entry in models.values()}
    families = [f for f in FAMILY_ORDER if f in present] + sorted(present - set(FAMILY_ORDER))
    print("models, by family (what each does; its paper):")
    for family in families:
        print(f"  {family}")
        for name, entry in models.items():
            if entry.family == family:
                print(f"    {name:<{width}}  {entry.summary}\n    {'':<{width}}  {entry.paper}")
    print("\ndatasets:")
    for name, text in DATASETS.items():
        print(f"  {name:<{max(map(len, DATASETS))}}  {text}")
    return 0


def _config_tree(args) -> dict:
    from gankit.config import load_yaml, merge_assignment, parse_assignment

    tree = load_yaml(args.config) if args.config else {}
    model = args.model or tree.get("model")
    if not model:
        raise GankitError("name a model to train (e.g. 'gankit train dcgan'), or pass --resume RUN_DIR.")
    if args.model and tree.get("model") and tree["model"] != args.model:
        raise GankitError(f"the config file is for model '{tree['model']}', not '{args.model}'.")
    tree["model"] = model
    flags = {("data", "name"): args.data, ("data", "root"): args.data_root, ("train", "steps"): args.steps,
             ("train", "epochs"): args.epochs, ("train", "batch_size"): args.batch_size,
             ("train", "seed"): args.seed, ("train", "device"): args.device,
             ("train", "precision"): args.precision}
    for (section, key), value in flags.items():
        if value is not None:
            tree.setdefault(section, {})[key] = value
    for text in args.set or []:
        merge_assignment(tree, *parse_assignment(text))
    return tree


def _shown(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return " ".join(_shown(v) for v in value)
    return str(value)


def _report(metrics: dict, run_dir: Path) -> None:
    from gankit.train.run import NEAREST_PICTURE

    width = max(map(len, metrics), default=0)
    for key, value in metrics.items():
        print(f"  {key:<{width}}  {_shown(value)}")
    if "memorisation_ratio" in metrics:
        print(f"samples above their nearest training images: {run_dir / NEAREST_PICTURE}")


def _finish_training(trainer, completed: bool) -> int:
    """Report the run and evaluate it (rank 0 of a torchrun run; the other processes just end)."""
    from gankit.train.distributed import resume_command

    run_dir = trainer.run_dir
    if not trainer.ranks.is_main:
        return 0 if completed else EXIT_INTERRUPTED
    if not completed:
        print(f"interrupted at step {trainer.step}; checkpoint saved. Continue with: "
              f"{resume_command(run_dir, trainer.ranks.world_size)}", file=sys.stderr)
        return EXIT_INTERRUPTED
    samples = run_dir / "samples" / "latest.png"
    print(f"run saved to {run_dir} (step {trainer.step})" + (f"; samples in {samples}" if samples.is_file() else ""))
    n = trainer.config.train.eval_samples
    if n > 0:
        metrics = trainer.evaluate(n)
        if metrics:
            _write_eval(run_dir, metrics, trainer.step, n)
            print(f"evaluation on {_scored(trainer.model.family, n, metrics)}:")
            _report(metrics, run_dir)
    return 0


def _scored(family: str, n: int, metrics: dict) -> str:
    """What an evaluation of ``n`` scored, in the words of the model's family."""
    count, unit = {"superres": (metrics.get("images", n), "held-out photo"), "coupled": (n, "pair"),
                   "translation": (metrics.get("images", n), "test image"),
                   "inpainting": (metrics.get("images", n), "test image")}.get(family, (n, "sample"))
    return f"{count} {unit}{'' if count == 1 else 's'}"


def _write_eval(run_dir: Path, metrics: dict, step: int, n: int, name: str = "eval.json") -> None:
    (run_dir / name).write_text(json.dumps({"step": step, "samples": n, "metrics": metrics}, indent=2) + "\n")


def _interpolate(model, name: str, alpha: float) -> None:
    """--alpha: network interpolation of a super-resolution GAN run's G with its PSNR run's."""
    from gankit.models.superres.base import PerceptualGANModel

    if not isinstance(model, PerceptualGANModel):
        raise GankitError(f"--alpha blends a GAN run's G with the PSNR run it started from (srgan, esrgan); "
                          f"{name} is not such a run.")
    model.interpolate(alpha)


def _cmd_train(args) -> int:
    if args.resume:
        return _resume(args)
    from gankit.config import resolve
    from gankit.registry import get_model
    from gankit.train.distributed import session
    from gankit.train.run import new_run_dir
    from gankit.train.trainer import Trainer

    tree = _config_tree(args)
    config = resolve(tree, get_model(tree["model"]).Options)
    with session(config.train.device) as ranks:  # the processes torchrun started, or just this one
        # rank 0 names the folder (the default one has the time in it) and checks that it is free
        run_dir = ranks.from_main(lambda: new_run_dir(args.out, config.model, config.data.name))
        trainer = Trainer(config, run_dir, ranks=ranks)
        return _finish_training(trainer, trainer.fit(progress=not args.quiet))


def _resume(args) -> int:
    from gankit.train.checkpoint import load_checkpoint
    from gankit.train.distributed import session
    from gankit.train.run import CONFIG_FILE, LATEST, read_run_config, relocate, run_data
    from gankit.train.trainer import Trainer

    extra = [flag for flag in ("model", "config", "data", "epochs", "batch_size", "seed",
                               "precision", "out", "set") if getattr(args, flag)]
    if extra:
        raise GankitError(f"--resume continues a run with its own settings; only --steps, --device and "
                          f"--data-root may be given (got --{extra[0].replace('_', '-')}).")
    run_dir = Path(args.resume)
    recorded = read_run_config(run_dir)  # config.yaml keeps this, whatever --data-root says for this session
    config = read_run_config(run_dir)
    config.data = relocate(config.data, args.data_root)
    state = load_checkpoint(run_dir / LATEST, config.model)
    if args.device:
        config.train.device = args.device
    with session(config.train.device) as ranks:
        trainer = Trainer(config, run_dir, dataset=run_data(recorded, "train", args.data_root, run_dir), ranks=ranks)
        trainer.load_state_dict(state)
        if args.steps is not None:
            if args.steps <= trainer.step:
                raise GankitError(f"{run_dir} is already at step {trainer.step}; ask for more with --steps N > "
                                  f"{trainer.step}.")
            recorded.train.steps, recorded.train.epochs = args.steps, None
            config.train.steps, config.train.epochs = args.steps, None
            if ranks.is_main:
                recorded.save(run_dir / CONFIG_FILE)
        elif trainer.step >= trainer.total_steps():
            raise GankitError(f"{run_dir} has finished its {trainer.step} steps; ask for more with --steps N.")
        return _finish_training(trainer, trainer.fit(progress=not args.quiet))


TRAVERSE_VALUES = 9  # columns of a traversal: the code from -2 to 2 in steps of 0.5


def _check_sample_request(args, config, model) -> None:
    if args.n is None:
        args.n = 64 if model.sample_labels is None or args.class_ is not None else 10 * model.num_labels
    if args.n < 1:
        raise GankitError("-n must be at least 1.")
    if args.traverse is not None and args.class_ is not None:
        raise GankitError("--traverse draws every code value; give it without --class.")
    if args.traverse is not None and args.traverse not in model.continuous_codes:
        codes = ", ".join(model.continuous_codes)
        raise GankitError(f"--traverse {args.traverse} needs a model with that continuous code; " + (
            f"{config.model} has {codes}." if codes else f"{config.model} has none (infogan has c2 and c3)."))
    if args.class_ is not None:
        if model.sample_labels is None:
            raise GankitError(f"--class needs a model that samples by class or code; {config.model} takes no labels.")
        if not 0 <= args.class_ < model.num_labels:
            kind = "classes" if model.sample_labels == "class" else "code values"
            raise GankitError(f"--class {args.class_} is out of range: {config.model} on {config.data.name} takes "
                              f"{kind} 0 to {model.num_labels - 1}.")


def _cmd_sample(args) -> int:
    import torch

    from gankit.metrics import generate, sample_grid
    from gankit.train.run import load_model, run_data
    from gankit.visual import save_samples

    run_dir = Path(args.run_dir)
    config, model, step = load_model(run_dir, args.device, use_ema=not args.no_ema)
    if model.family == "translation":
        return _translation_grid(args, config, model, step)
    if model.family == "inpainting":
        return _inpainting_grid(args, config, model, step)
    if model.family == "coupled":
        return _coupled_grid(args, config, model, step)
    if model.family == "encoder" and args.class_ is None and args.traverse is None:
        return _encoder_grid(args, config, model, step)
    _check_sample_request(args, config, model)
    what = (f"_{args.traverse}" if args.traverse else f"_class{args.class_}" if args.class_ is not None else "")
    out = Path(args.out) if args.out else run_dir / "samples" / f"sample_step{step}_seed{args.seed}{what}.png"
    # Only 2-D pictures need the data (its modes); a --data-root given anyway is checked.
    dataset = run_data(config, "test", args.data_root, run_dir) if args.data_root or not model.data.is_image else None
    torch.manual_seed(args.seed)
    per_row = None
    if args.traverse is not None:
        with torch.no_grad():
            samples = model.traverse(args.traverse, torch.linspace(-2, 2, TRAVERSE_VALUES), noise_seed=args.seed)
        per_row = TRAVERSE_VALUES
    elif args.class_ is not None:
        samples = generate(model, args.n, label=args.class_)
    else:
        samples, per_row = sample_grid(model, args.n)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_samples(samples.float().cpu(), out, getattr(dataset, "modes", None), f"{config.model} step {step}",
                 nrow=per_row)
    print(f"wrote {len(samples)} samples to {out}")
    return 0


def _translation_grid(args, config, model, step: int) -> int:
    """gankit sample for a translation run: test inputs above their translations, -n per row (default 8)."""
    from gankit.metrics.translation import GRID_COLUMNS, translation_grid
    from gankit.train.run import run_data
    from gankit.visual import save_samples

    if args.class_ is not None or args.traverse is not None:
        raise GankitError(f"--class and --traverse are for models that sample from noise; {config.model} translates.")
    _check_translates(config, model)
    columns = args.n or GRID_COLUMNS
    if columns < 1:
        raise GankitError("-n must be at least 1.")
    out = Path(args.out) if args.out else Path(args.run_dir) / "samples" / f"translations_step{step}.png"
    images, per_row = translation_grid(model, run_data(config, "test", args.data_root), columns)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_samples(images, out, nrow=per_row)
    shown = ("test inputs above a row per attribute value" if model.translates_attributes else
             "test inputs per direction above their translations")
    print(f"wrote {columns} {shown} to {out}")
    return 0


def _inpainting_grid(args, config, model, step: int) -> int:
    """gankit sample for an inpainting run: test images above their masked and filled versions, -n per row
    (default 8), the holes drawn from --seed."""
    from gankit.metrics.inpainting import GRID_COLUMNS, inpainting_grid
    from gankit.train.run import run_data
    from gankit.visual import save_samples

    if args.class_ is not None or args.traverse is not None:
        raise GankitError(f"--class and --traverse are for models that sample from noise; {config.model} inpaints.")
    columns = args.n or GRID_COLUMNS
    if columns < 1:
        raise GankitError("-n must be at least 1.")
    run_dir = Path(args.run_dir)
    out = Path(args.out) if args.out else run_dir / "samples" / f"inpainting_step{step}_seed{args.seed}.png"
    images, per_row = inpainting_grid(model, run_data(config, "test", args.data_root, run_dir), columns, args.seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_samples(images, out, nrow=per_row)
    print(f"wrote {per_row} test images, masked and filled, to {out} (rows: input, masked, filled)")
    return 0


def _coupled_grid(args, config, model, step: int) -> int:
    """gankit sample for a coupled run: 4 rows of -n pairs (default 8), each domain-A row above the domain-B
    images of the same z, drawn from --seed."""
    import torch

    from gankit.metrics.coupled import GRID_COLUMNS, GRID_ROWS, coupled_grid
    from gankit.visual import save_samples

    if args.class_ is not None or args.traverse is not None:
        raise GankitError(f"--class and --traverse are for models that take labels or codes; {config.model} "
                          f"draws pairs from noise alone.")
    columns = args.n or GRID_COLUMNS
    if columns < 1:
        raise GankitError("-n must be at least 1.")
    out = Path(args.out) if args.out else Path(args.run_dir) / "samples" / f"pairs_step{step}_seed{args.seed}.png"
    torch.manual_seed(args.seed)
    images, per_row = coupled_grid(model, columns)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_samples(images, out, nrow=per_row)
    print(f"wrote {GRID_ROWS * columns} pairs to {out} (rows: domain A above the same z in domain B)")
    return 0


def _encoder_grid(args, config, model, step: int) -> int:
    """gankit sample for an encoder run: test images above their reconstructions, then two rows of prior samples,
    -n per row (default 8), the samples drawn from --seed."""
    import torch

    from gankit.metrics.encoders import GRID_COLUMNS, PRIOR_ROWS, encoder_grid
    from gankit.train.run import run_data
    from gankit.visual import save_samples

    columns = args.n or GRID_COLUMNS
    if columns < 1:
        raise GankitError("-n must be at least 1.")
    run_dir = Path(args.run_dir)
    out = Path(args.out) if args.out else run_dir / "samples" / f"reconstructions_step{step}_seed{args.seed}.png"
    test = run_data(config, "test", args.data_root, run_dir)
    torch.manual_seed(args.seed)
    images, per_row = encoder_grid(model, test, columns)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_samples(images, out, nrow=per_row)
    print(f"wrote {per_row} test images above their reconstructions and {PRIOR_ROWS * per_row} prior samples to {out}")
    return 0


def _check_translates(config, model) -> None:
    if not model.directions():
        raise GankitError(f"this {config.model} run has no generator (an ablation such as pixelda's "
                          f"options.source_only), so it translates nothing.")


def _load_run_of(args, family: str, lacks: str, needs: str, use_ema: bool = True):
    """(config, model, step) of ``args.run_dir``, which must hold a model of ``family``; else one
    sentence saying that the run's model ``lacks`` what the command ``needs`` (e.g. "does not inpaint images",
    "an inpainting model")."""
    from gankit.registry import all_models
    from gankit.train.run import load_model

    run_dir = Path(args.run_dir)
    config, model, step = load_model(run_dir, args.device, use_ema=use_ema)
    if model.family != family:
        fitting = ", ".join(name for name, cls in all_models().items() if cls.family == family)
        raise GankitError(f"{run_dir} is a {config.model} run, which {lacks}; gankit {args.command} needs a run "
                          f"of {needs} ({fitting}).")
    return config, model, step


def _cmd_translate(args) -> int:
    import torch
    from torchvision.transforms.v2.functional import to_pil_image

    from gankit.data.base import float_to_uint8, uint8_to_float
    from gankit.data.images import read_images, square
    from gankit.metrics.translation import translate_all

    config, model, step = _load_run_of(args, "translation", "does not translate images", "an image-to-image model",
                                       use_ema=not args.no_ema)
    _check_translates(config, model)
    if args.direction not in model.directions():
        raise GankitError(f"{config.model} translates from domain A to B only; leave out --direction b2a.")
    if args.styles is not None and args.styles < 1:
        raise GankitError("--styles must be at least 1.")
    if args.styles is not None and not model.multimodal:
        raise GankitError(f"--styles draws several outputs per input from multimodal models (munit, bicyclegan); "
                          f"{config.model} gives one output per input.")
    if args.target and not model.translates_attributes:
        raise GankitError(f"--target chooses the target attributes of stargan; {config.model} has none.")
    targets = _target_attributes(args.target, config, model) if model.translates_attributes else None
    folder, out = Path(args.input).expanduser(), Path(args.out).expanduser()
    if not folder.is_dir():
        raise GankitError(f"--input {folder} is not a folder of images.")
    channels = model.data.shape[0] if args.direction == "a2b" else model.data.shape_b[0]
    # A colour domain reads grey images as one channel and widens them, as a training folder does.
    files = read_images(folder, None if channels == 3 else "L")
    if channels == 3:
        if all(image.shape[0] == 1 for _, image in files):
            raise GankitError(f"the images in {folder} are grey, and this run translates colour images of domain "
                              f"{'A' if args.direction == 'a2b' else 'B'}; give it colour images.")
        files = [(file, image.expand(3, -1, -1)) for file, image in files]
    # --styles K: K outputs per input, NAME_style0.png ...; the k-th drawn with one style for every input
    suffixes = [""] if args.styles is None else [f"_style{k}" for k in range(args.styles)]
    names = [[f"{file.stem}{suffix}.png" for file, _ in files] for suffix in suffixes]
    every = [name for per_style in names for name in per_style]
    clashes = sorted({name for name in every if every.count(name) > 1 or (out / name).exists()})
    if clashes:
        raise GankitError(f"{out / clashes[0]} would be written twice or already exists; choose an empty --out.")
    images = uint8_to_float(torch.cat([square(image, model.size) for _, image in files]))
    out.mkdir(parents=True, exist_ok=True)
    target = None
    if targets is not None:  # the attributes named by --target; the others as D reads them in each image
        with torch.no_grad():
            target = torch.cat([model.classify_attributes(images[i:i + 250].to(model.device)).cpu()
                                for i in range(0, len(images), 250)])
        for column, value in targets.items():
            target[:, column] = value
    for per_style in names:
        style = model.draw_styles(1) if args.styles is not None else None
        translated = translate_all(model, images, args.direction, style=style, target=target)
        for name, image in zip(per_style, float_to_uint8(translated)):
            to_pil_image(image).save(out / name)
    styles = "" if args.styles is None else f" in {args.styles} styles each"
    how = ", ".join(args.target) if targets is not None else args.direction
    print(f"translated {len(files)} images{styles} ({how}, {model.size}x{model.size}, {config.model} "
          f"step {step}) into {out}")
    return 0


def _target_attributes(requests: Optional[list[str]], config, model) -> dict[int, int]:
    """--target KEY=VALUE ...: {attribute column: value index} for stargan, checked against the run's data."""
    attributes = model.data.attributes
    known = "; ".join(f"{name}: {', '.join(values)}" for name, values in attributes)
    if not requests:
        raise GankitError(f"{config.model} translates to the attribute values you name; give at least one "
                          f"--target KEY=VALUE ({known}).")
    targets = {}
    for request in requests:
        key, _, value = request.partition("=")
        columns = [i for i, (name, _) in enumerate(attributes) if name == key]
        if not columns:
            raise GankitError(f"--target {request}: this run's images have no attribute '{key}' ({known}).")
        values = attributes[columns[0]][1]
        if value not in values:
            raise GankitError(f"--target {request}: '{value}' is not a value of {key} ({', '.join(values)}).")
        targets[columns[0]] = values.index(value)
    return targets


def _images_for_run(folder: Path, channels: int, verb: str) -> list:
    """(file, uint8 image) for every readable image under ``folder``, with the run's ``channels``: grey images
    are refused by a colour run unless some are in colour (then they are widened, as a training folder reads
    them), colour images by a grey run. ``verb`` says what the run does with them, for the error message."""
    from gankit.data.images import read_images

    files = read_images(folder, None)  # grey images as one channel, the rest as RGB
    if channels == 1:
        colour = next((file for file, image in files if image.shape[0] != 1), None)
        if colour is not None:
            raise GankitError(f"{colour} is a colour image, and this run {verb} grey images; give it grey images.")
        return files
    if all(image.shape[0] == 1 for _, image in files):
        raise GankitError(f"the images in {folder} are grey, and this run {verb} colour images; give it colour "
                          f"images.")
    return [(file, image.expand(3, -1, -1)) for file, image in files]


def _cmd_inpaint(args) -> int:
    import torch
    from torchvision.transforms.v2.functional import to_pil_image

    from gankit.data.base import float_to_uint8, uint8_to_float
    from gankit.data.images import square
    from gankit.metrics.inpainting import inpaint_all

    config, model, step = _load_run_of(args, "inpainting", "does not inpaint images", "an inpainting model")
    folder, out = Path(args.input).expanduser(), Path(args.out).expanduser()
    if not folder.is_dir():
        raise GankitError(f"--input {folder} is not a folder of images.")
    if out.exists() and not out.is_dir():
        raise GankitError(f"--out {out} is a file; give a folder for the filled images.")
    files = _images_for_run(folder, model.channels, "fills")
    names = [f"{file.stem}.png" for file, _ in files]
    clashes = sorted({name for name in names if names.count(name) > 1 or (out / name).exists()})
    if clashes:
        raise GankitError(f"{out / clashes[0]} would be written twice or already exists; choose an empty --out.")
    kind = args.mask or model.masks.kind
    masks = model.options.mask_generator(kind)(len(files), model.size, torch.Generator().manual_seed(args.seed))
    images = uint8_to_float(torch.cat([square(image, model.size) for _, image in files]))
    out.mkdir(parents=True, exist_ok=True)
    for name, image in zip(names, float_to_uint8(inpaint_all(model, images, masks))):
        to_pil_image(image).save(out / name)
    print(f"filled {kind} holes in {len(files)} images ({model.size}x{model.size}, {config.model} step {step}) "
          f"into {out}")
    return 0


def _cmd_encode(args) -> int:
    import numpy as np
    import torch

    from gankit.data.base import uint8_to_float
    from gankit.data.images import square
    from gankit.metrics.encoders import encode_all

    config, model, step = _load_run_of(args, "encoder", "has no encoder", "an encoder model")
    folder, out = Path(args.input).expanduser(), Path(args.out).expanduser()
    order = out.with_suffix(".txt")
    if not folder.is_dir():
        raise GankitError(f"--input {folder} is not a folder of images.")
    if out.suffix != ".npy":
        raise GankitError(f"--out {out} must name a .npy file (the file order goes beside it, as .txt).")
    existing = next((path for path in (out, order) if path.exists()), None)
    if existing is not None:
        raise GankitError(f"{existing} already exists; choose another --out.")
    files = _images_for_run(folder, model.data.shape[0], "encodes")
    size = model.data.shape[-1]
    codes = encode_all(model, uint8_to_float(torch.cat([square(image, size) for _, image in files])))
    out.parent.mkdir(parents=True, exist_ok=True)
    np.save(out, codes.numpy())
    order.write_text("".join(f"{file.relative_to(folder).as_posix()}\n" for file, _ in files))
    print(f"encoded {len(files)} images ({size}x{size}, {config.model} step {step}) into {out} "
          f"({codes.shape[0]} x {codes.shape[1]} codes); their files, in order, in {order}")
    return 0


def _readable_images(folder: Path) -> list[tuple[Path, tuple[int, int]]]:
    """(file, (width, height)) of every image PIL can decode under ``folder`` (recursively, sorted); every
    other file is skipped with a warning on stderr."""
    from PIL import Image, UnidentifiedImageError

    found = []
    for file in sorted(p for p in folder.rglob("*") if p.is_file()):
        try:
            with Image.open(file) as image:
                image.load()
                found.append((file, image.size))
        except (OSError, UnidentifiedImageError, ValueError):
            print(f"gankit: warning: skipping {file}, which is not an image.", file=sys.stderr)
    return found


def _cmd_upscale(args) -> int:
    from PIL import Image
    from torchvision.transforms.v2.functional import pil_to_tensor, to_pil_image

    from gankit.data.base import float_to_uint8, uint8_to_float
    from gankit.metrics.superres import upscale_tiled

    config, model, step = _load_run_of(args, "superres", "does not upscale images", "a super-resolution model")
    if args.tile < 1:
        raise GankitError("--tile must be at least 1.")
    if args.alpha is not None:
        _interpolate(model, config.model, args.alpha)
    folder, out = Path(args.input).expanduser(), Path(args.out).expanduser()
    if not folder.is_dir():
        raise GankitError(f"--input {folder} is not a folder of images.")
    if out.exists() and not out.is_dir():
        raise GankitError(f"--out {out} is a file; give a folder for the upscaled images.")
    images = _readable_images(folder)
    if not images:
        raise GankitError(f"no readable images found in {folder}.")
    small = next(((file, size) for file, size in images if min(size) < model.scale), None)
    if small is not None:
        raise GankitError(f"{small[0]} is {small[1][0]}x{small[1][1]} pixels, smaller than this run's scale factor "
                          f"{model.scale}, so it has no low-resolution pixels to upscale; remove it.")
    names = [f"{file.stem}.png" for file, _ in images]
    clashes = sorted({name for name in names if names.count(name) > 1 or (out / name).exists()})
    if clashes:
        raise GankitError(f"{out / clashes[0]} would be written twice or already exists; choose an empty --out.")
    out.mkdir(parents=True, exist_ok=True)
    for (file, _), name in zip(images, names):  # one image in memory at a time, upscaled tile by tile
        with Image.open(file) as image:
            lr = uint8_to_float(pil_to_tensor(image.convert("RGB")).unsqueeze(0))
        to_pil_image(float_to_uint8(upscale_tiled(model, lr, args.tile)[0])).save(out / name)
    blend = "" if args.alpha is None else f", interpolated with alpha {args.alpha}"
    print(f"upscaled {len(images)} images {model.scale}x ({config.model} step {step}{blend}) into {out}")
    return 0


def _feature_net(spec: str):
    """--features NET=FILE: a torchvision ImageNet network loaded from the user's weights file."""
    from gankit.metrics.features import FEATURE_NETS, ImageNetFeatures

    name, _, path = spec.partition("=")
    if not path:
        raise GankitError(f"--features takes NET=FILE (NET one of {', '.join(FEATURE_NETS)}), not '{spec}'.")
    return ImageNetFeatures(name, str(Path(path).expanduser()))


def _cmd_eval(args) -> int:
    import torch

    from gankit.metrics import DEFAULT_EVAL_SAMPLES, SWDSettings, evaluate
    from gankit.metrics.tasks import TaskData
    from gankit.train.run import NEAREST_PICTURE, load_model, run_data

    asked = {"max_images": args.swd_images, "patches_per_image": args.swd_patches, "projections": args.swd_projections}
    if any(value is not None and value < 1 for value in asked.values()):
        raise GankitError("--swd-images, --swd-patches and --swd-projections must be at least 1.")
    swd_settings = SWDSettings(**{key: value for key, value in asked.items() if value is not None})
    feature_nets = [_feature_net(spec) for spec in args.features or ()]
    run_dir = Path(args.run_dir)
    config, model, step = load_model(run_dir, args.device, use_ema=not args.no_ema)
    if args.alpha is not None:
        _interpolate(model, config.model, args.alpha)
    dataset = run_data(config, "test", args.data_root, run_dir)
    task_data = TaskData(dataset, train=lambda: run_data(config, "train", args.data_root, run_dir),
                         labels=config.data.labels, seed=config.train.seed)
    n = args.n or DEFAULT_EVAL_SAMPLES[dataset.spec.kind]
    torch.manual_seed(args.seed)
    blend = "" if args.alpha is None else f"_alpha{args.alpha:g}"  # a blend's scores leave the run's own alone
    metrics = evaluate(model, dataset, n, plot=run_dir / f"eval_samples{blend}.png", task_data=task_data,
                       nearest_plot=run_dir / NEAREST_PICTURE, swd_settings=swd_settings, feature_nets=feature_nets)
    if args.alpha is not None:
        metrics["alpha"] = args.alpha
    _write_eval(run_dir, metrics, step, n, f"eval{blend}.json")
    if args.json:
        print(json.dumps({"step": step, "samples": n, "metrics": metrics}, indent=2))
    else:
        print(f"{config.model} on {config.data.name}, step {step}, {_scored(model.family, n, metrics)}:")
        _report(metrics, run_dir)
    return 0


def _cmd_bench(args) -> int:
    from gankit.bench import run_suite
    from gankit.bench.runner import suite_path

    if args.jobs < 1 or (args.threads is not None and args.threads < 1):
        raise GankitError("--jobs and --threads must be at least 1.")
    out = Path(args.out) if args.out else Path("bench") / suite_path(args.suite).stem
    run_suite(args.suite, out, jobs=args.jobs, threads=args.threads, only=args.only, rescore=args.rescore)
    print((out / "leaderboard.md").read_text())
    return 0


def _cmd_report(args) -> int:
    from gankit.report import write_report

    path = Path(args.path)
    if not path.is_dir():
        raise GankitError(f"{path} is not a folder; give a run directory or a bench folder.")
    out = write_report(path, Path(args.out) if args.out else None)
    print(f"wrote {out}")
    return 0


def _cmd_classifier(args) -> int:
    import dataclasses

    from gankit.classifier import DEFAULTS, save_classifier, train_classifier, write_record

    if args.data not in (*DEFAULTS, "photos"):
        raise GankitError(f"classifiers can be trained on {', '.join(DEFAULTS)} and photos (the photo feature "
                          f"network), not '{args.data}'.")
    command = " ".join(["gankit classifier train --data", args.data]
                       + [f"--{flag.replace('_', '-')} {getattr(args, flag)}"
                          for flag in ("data_root", "seed", "epochs", "out") if getattr(args, flag) is not None])
    if args.data == "photos":
        from gankit.nets.photo_features import FeatureTraining, save_photo_features, train_photo_features

        if args.epochs is not None:
            raise GankitError("the photo feature network trains for a number of steps on endless random patches, "
                              "not epochs; leave out --epochs.")
        out = Path(args.out or "photo_features.safetensors")
        net, record = train_photo_features(FeatureTraining(**({} if args.seed is None else {"seed": args.seed})))
        save_photo_features(net, out)
    else:
        overrides = {key: value for key, value in (("seed", args.seed), ("epochs", args.epochs)) if value is not None}
        settings = dataclasses.replace(DEFAULTS[args.data], **overrides)
        out = Path(args.out or f"{args.data}_classifier.safetensors")
        net, record = train_classifier(args.data, args.data_root, settings)
        save_classifier(net, out, args.data)
    record_path = write_record(record, out, command)
    print(f"test accuracy {record['test_accuracy']:.4f}; wrote {out} and {record_path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gankit", description="Train, sample and evaluate classic GANs.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("list", help="list the models and datasets").set_defaults(func=_cmd_list)

    train = sub.add_parser("train", help="train a model (or --resume a run)")
    train.add_argument("model", nargs="?", help="model name (see 'gankit list')")
    train.add_argument("--resume", metavar="RUN_DIR", help="continue the run in RUN_DIR")
    train.add_argument("--data", help="dataset name (default digits)")
    train.add_argument("--data-root", metavar="DIR",
                       help="folder with datasets in torchvision's layout (or $GANKIT_DATA); with --resume: "
                            "where the run's data is now, if it has moved")
    train.add_argument("--steps", type=int, help="total rounds (generator steps) to train to")
    train.add_argument("--epochs", type=float, help="train for this many passes over the data instead")
    train.add_argument("--batch-size", type=int)
    train.add_argument("--seed", type=int)
    train.add_argument("--out", help="run directory to create (default runs/MODEL-DATA-TIME)")
    train.add_argument("--device", choices=["auto", "cpu", "cuda"])
    train.add_argument("--precision", choices=["auto", "fp32", "bf16"],
                       help="auto (default): bf16 for images where the hardware runs it natively, else fp32")
    train.add_argument("--config", metavar="FILE.yaml", help="YAML file with model/data/train/options sections")
    train.add_argument("--set", action="append", metavar="KEY=VALUE",
                       help="override one setting, e.g. options.lr=1e-4 or train.ema_decay=0.999")
    train.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    train.set_defaults(func=_cmd_train)

    sample = sub.add_parser("sample", help="write a grid (or scatter plot) of samples from a run")
    sample.add_argument("run_dir")
    sample.add_argument("-n", type=int, help="number of samples (default 64; 10 per row of a class grid; "
                                             "translation, inpainting and encoder models: inputs per row, "
                                             "default 8; cogan: pairs per row, default 8)")
    sample.add_argument("--out", metavar="FILE.png")
    sample.add_argument("--seed", type=int, default=0)
    sample.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    sample.add_argument("--no-ema", action="store_true", help="use the live generator even if EMA was kept")
    sample.add_argument("--data-root", metavar="DIR", help=RUN_DATA_ROOT_HELP)
    sample.add_argument("--class", dest="class_", type=int, metavar="K",
                        help="conditional models: samples of class K (infogan, clustergan: of code value K); "
                             "default: one row per class")
    sample.add_argument("--traverse", metavar="CODE",
                        help="infogan: rows = categorical code, columns = CODE (e.g. c2) from -2 to 2")
    sample.set_defaults(func=_cmd_sample)

    translate = sub.add_parser("translate", help="run an image-to-image model on a folder of your images")
    translate.add_argument("run_dir")
    translate.add_argument("--input", required=True, metavar="DIR", help="images to translate (searched recursively)")
    translate.add_argument("--out", required=True, metavar="DIR", help="where the translations go, one PNG each")
    translate.add_argument("--direction", default="a2b", choices=["a2b", "b2a"],
                           help="a2b (default) or, for two-way models, b2a")
    translate.add_argument("--styles", type=int, metavar="K", help="multimodal models: K outputs per input")
    translate.add_argument("--target", action="append", metavar="KEY=VALUE",
                           help="stargan: a target attribute of the translation")
    translate.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    translate.add_argument("--no-ema", action="store_true", help="use the live generator even if EMA was kept")
    translate.set_defaults(func=_cmd_translate)

    inpaint = sub.add_parser("inpaint", help="fill holes in your images with an inpainting model")
    inpaint.add_argument("run_dir")
    inpaint.add_argument("--input", required=True, metavar="DIR", help="images to fill (searched recursively)")
    inpaint.add_argument("--out", required=True, metavar="DIR", help="where the filled images go, one PNG each")
    inpaint.add_argument("--mask", choices=["center", "block", "strokes"],
                         help="the holes to cut and fill (default: the kind the run trained on, at its sizes)")
    inpaint.add_argument("--seed", type=int, default=0, help="draws the block and strokes holes (default 0)")
    inpaint.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    inpaint.set_defaults(func=_cmd_inpaint)

    encode = sub.add_parser("encode", help="export an encoder model's codes of your images as a NumPy array")
    encode.add_argument("run_dir")
    encode.add_argument("--input", required=True, metavar="DIR", help="images to encode (searched recursively)")
    encode.add_argument("--out", required=True, metavar="FILE.npy",
                        help="the codes, an (images, z_dim) float32 array; the images' files, in the same order, "
                             "go to FILE.txt beside it")
    encode.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    encode.set_defaults(func=_cmd_encode)
    upscale = sub.add_parser("upscale", help="upscale your images with a super-resolution model")
    upscale.add_argument("run_dir")
    upscale.add_argument("--input", required=True, metavar="DIR", help="images of any size (searched recursively)")
    upscale.add_argument("--out", required=True, metavar="DIR", help="where the upscaled images go, one PNG each")
    upscale.add_argument("--tile", type=int, default=128, metavar="T",
                         help="input pixels per tile side (default 128); memory grows with T^2, not the image")
    upscale.add_argument("--alpha", type=float, metavar="A",
                         help="srgan, esrgan: network interpolation, (1 - A) x the PSNR run's G + A x the GAN's")
    upscale.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    upscale.set_defaults(func=_cmd_upscale)

    ev = sub.add_parser("eval", help="compute the metrics that fit a run's data; writes RUN_DIR/eval.json")
    ev.add_argument("run_dir")
    ev.add_argument("-n", type=int, help="number of samples (default: 2500 for 2-D data, 10000 for images)")
    ev.add_argument("--json", action="store_true", help="print the result as JSON")
    ev.add_argument("--seed", type=int, default=0)
    ev.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    ev.add_argument("--no-ema", action="store_true", help="use the live generator even if EMA was kept")
    ev.add_argument("--data-root", metavar="DIR", help=RUN_DATA_ROOT_HELP)
    ev.add_argument("--alpha", type=float, metavar="A",
                    help="srgan, esrgan: score the network interpolation (1 - A) x the PSNR run's G + A x the GAN's "
                         "(written to eval_alphaA.json)")
    ev.add_argument("--features", action="append", metavar="NET=FILE",
                    help="also FID and KID on a torchvision ImageNet network's features, from your weights file "
                         "(NET: resnet18, resnet50 or vgg16; slow on a CPU, so pair it with -n); repeatable")
    ev.add_argument("--swd-images", type=int, metavar="N",
                    help="sliced Wasserstein distance: at most N images a side (default 2048)")
    ev.add_argument("--swd-patches", type=int, metavar="P",
                    help="sliced Wasserstein distance: 7x7 patches per image and level (default 64)")
    ev.add_argument("--swd-projections", type=int, metavar="R",
                    help="sliced Wasserstein distance: random directions (default 256)")
    ev.set_defaults(func=_cmd_eval)

    bench = sub.add_parser("bench", help="run a benchmark suite (models x datasets x seeds) and tabulate it")
    bench.add_argument("suite", help="a packaged suite name (e.g. toy2d) or a suite YAML file")
    bench.add_argument("--out", help="results folder (default bench/SUITE); finished runs there are kept")
    bench.add_argument("--jobs", type=int, default=1, help="runs in parallel (default 1)")
    bench.add_argument("--threads", type=int, help="torch threads per run (default: cores / jobs)")
    bench.add_argument("--only", nargs="+", metavar="ROW", help="run only these rows of the suite")
    bench.add_argument("--rescore", action="store_true",
                       help="evaluate finished runs again with the current metrics (no training) and rewrite "
                            "the tables")
    bench.set_defaults(func=_cmd_bench)

    report = sub.add_parser("report", help="one self-contained HTML page for a run directory or a bench folder")
    report.add_argument("path", metavar="PATH", help="a run directory or a bench folder (with results.json)")
    report.add_argument("--out", metavar="FILE.html", help="where to write the page (default PATH/report.html)")
    report.set_defaults(func=_cmd_report)

    classifier = sub.add_parser("classifier", help="the feature classifiers the image metrics use")
    classifier_sub = classifier.add_subparsers(dest="action", required=True, metavar="ACTION")
    ctrain = classifier_sub.add_parser("train", help="train a classifier (deterministic given --seed)")
    ctrain.add_argument("--data", required=True, help="digits, mnist, fashion-mnist, mnist-m, mnist-colour, "
                        "mnist-edges, mnist-colour-attributes (its colour x background), or photos (the photo "
                        "feature network of the super-resolution models)")
    ctrain.add_argument("--data-root", help="folder with datasets in torchvision's layout (or $GANKIT_DATA)")
    ctrain.add_argument("--out", metavar="FILE.safetensors", help="default DATA_classifier.safetensors here")
    ctrain.add_argument("--seed", type=int, help="default 0")
    ctrain.add_argument("--epochs", type=int, help="default: the setting the shipped weights used")
    ctrain.set_defaults(func=_cmd_classifier)
    return parser


def _show_warning(message, category, filename, lineno, file=None, line=None, default=warnings.showwarning):
    """gankit's own warnings as one line on stderr; other libraries' in Python's usual form."""
    if f"{os.sep}gankit{os.sep}" in filename:
        print(f"gankit: warning: {message}", file=sys.stderr)
    else:
        default(message, category, filename, lineno, file, line)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    shown_before, warnings.showwarning = warnings.showwarning, _show_warning
    try:
        return args.func(args)
    except GankitError as error:
        print(f"gankit: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("gankit: interrupted.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # the reader went away (gankit list | head): not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    finally:
        warnings.showwarning = shown_before


if __name__ == "__main__":
    sys.exit(main())

"""GAN training: a generator and a discriminator compiled from one graph (two
separate networks), trained in turns: ``d_steps`` discriminator updates on real
and generated batches, then ``g_steps`` generator updates.

Each epoch reports ``modes_covered``: of the data set's modes (the ring's eight
Gaussians), how many hold at least 2% of 2,000 generated samples within three
standard deviations of their centre.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .config import TrainingConfig
from .events import ProbeEvent
from .model import input_nodes, output_nodes
from .monitor import TRAINING_LOSS, Goal
from .probes import activation_stats, grad_norms, record_outputs
from .recipe import Evaluation, Recipe, Update, autocast, batch_bounds, permutation, place
from .supervised import TrainingDataError

EVAL_SAMPLES = 2000
MODE_SHARE = 0.02
PROBE_SAMPLES = 500


def _fmt(shape) -> str:
    return "[" + ", ".join(str(int(d)) for d in shape) + "]"


def pick_roles(nets: dict[str, nn.Module], graph, cfg: TrainingConfig, sample_shape: tuple[int, ...]) -> tuple[str, str]:
    """(generator, discriminator) names: as configured, else by shape: the
    discriminator's Input takes one real sample, the generator's does not."""
    names = list(nets)
    gen, disc = cfg.gan.generator, cfg.gan.discriminator
    for key, value in (("generator", gen), ("discriminator", disc)):
        if value is not None and value not in nets:
            raise TrainingDataError(f"training.gan.{key}: no network {value!r} in the graph "
                                    f"(networks, named by their first Input: {', '.join(names)})")
    if len(nets) != 2:
        raise TrainingDataError(f"a gan needs two separate networks, a generator and a discriminator; the graph "
                                f"holds {len(nets)} ({', '.join(names)})")

    def takes_sample(name: str) -> bool:
        ins = input_nodes(nets[name])
        return len(ins) == 1 and tuple(graph.node(ins[0]).params["shape"]) == tuple(sample_shape)

    if gen is None and disc is None:
        takers = [n for n in names if takes_sample(n)]
        if len(takers) != 1:
            raise TrainingDataError("training.gan: say which network is the generator and which the "
                                    "discriminator (both or neither take a real sample " + _fmt(sample_shape) + ")")
        disc = takers[0]
    if disc is None:
        disc = next(n for n in names if n != gen)
    if gen is None:
        gen = next(n for n in names if n != disc)
    if gen == disc:
        raise TrainingDataError(f"training.gan: generator and discriminator are both {gen!r}")
    return gen, disc


def _output_shape(net: nn.Module, graph) -> tuple[int, ...]:
    outs = output_nodes(net)
    if len(outs) != 1:
        raise TrainingDataError(f"network {input_nodes(net)[0]} has {len(outs)} outputs; a gan's networks have one")
    return tuple(graph.shapes.output(*outs[0]) or ())


class Gan(Recipe):
    step_extra_names = ("generator_loss",)

    def __init__(self, nets: dict[str, nn.Module], dataset, graph, cfg: TrainingConfig, device: torch.device):
        self.cfg = cfg
        self.device = device
        real = dataset.train.x
        sample_shape = tuple(real.shape[1:])
        self.g_name, self.d_name = pick_roles(nets, graph, cfg, sample_shape)
        self.G = nets[self.g_name].to(device)
        self.D = nets[self.d_name].to(device)
        self.networks = {self.g_name: self.G, self.d_name: self.D}
        g_input = graph.node(input_nodes(self.G)[0]).params["shape"]
        self.latent = tuple(g_input)
        if cfg.gan.latent_size is not None and (len(self.latent) != 1 or self.latent[0] != cfg.gan.latent_size):
            raise TrainingDataError(f"training.gan.latent_size: {cfg.gan.latent_size}, but the generator's "
                                    f"Input {input_nodes(self.G)[0]} takes {_fmt(self.latent)}")
        d_takes = tuple(graph.node(input_nodes(self.D)[0]).params["shape"])
        if d_takes != sample_shape:
            raise TrainingDataError(f"the discriminator {self.d_name} takes {_fmt(d_takes)}, the data set's "
                                    f"samples are {_fmt(sample_shape)}")
        makes = _output_shape(self.G, graph)
        if makes != sample_shape:
            raise TrainingDataError(f"the generator {self.g_name} makes {_fmt(makes)} samples, the data "
                                    f"set's are {_fmt(sample_shape)}")
        scores = _output_shape(self.D, graph)
        if int(np.prod(scores)) != 1:
            raise TrainingDataError(f"the discriminator {self.d_name} gives {_fmt(scores)} per sample; "
                                    "it needs one score")
        self.real = place(real.float(), device)
        self.amp = autocast(cfg, device)
        with torch.no_grad(), self.amp():
            score = self.D(self.real[:2])
        self.score_shape = tuple(score.shape[1:])
        self.n = len(self.real)
        self.batches = batch_bounds(self.n, cfg.batch_size)
        self.steps_per_epoch = max(1, len(self.batches) // cfg.gan.d_steps)
        self.samples_per_epoch = sum(e - s for s, e in self.batches[: self.steps_per_epoch * cfg.gan.d_steps])
        self.update_d = Update(self.D.parameters(), cfg, device)
        self.update_g = Update(self.G.parameters(), cfg, device)
        self.updates = [self.update_d, self.update_g]
        b = cfg.batch_size
        self.ones = torch.ones(b, *self.score_shape, device=device)
        self.zeros = torch.zeros(b, *self.score_shape, device=device)
        extra = getattr(dataset, "extra", {}) or {}
        self.centres = np.asarray(extra["centres"]) if "centres" in extra else None
        self.std = float(extra["std"]) if "std" in extra else None
        if self.centres is not None and self.std is not None:  # more modes covered is better, then a lower loss
            self.goal = Goal("modes_covered", "max", "modes covered", tie=TRAINING_LOSS)
        gen = torch.Generator(device=device).manual_seed(cfg.seed + 12345)
        self.eval_z = torch.randn(EVAL_SAMPLES, *self.latent, generator=gen, device=device)
        self.perm = None
        self._g_loss = None

    def begin_epoch(self, epoch: int) -> None:
        self.perm = permutation(self.n, self.cfg.seed, epoch, self.device)

    def step(self, i: int) -> torch.Tensor:
        gan = self.cfg.gan
        for k in range(gan.d_steps):
            start, end = self.batches[i * gan.d_steps + k]
            b = end - start
            real = self.real[self.perm[start:end]]
            z = torch.randn(b, *self.latent, device=self.device)
            with self.amp():
                with torch.no_grad():
                    fake = self.G(z)
                d_loss = (F.binary_cross_entropy_with_logits(self.D(real), self.ones[:b])
                          + F.binary_cross_entropy_with_logits(self.D(fake), self.zeros[:b]))
            self.update_d(d_loss)
        b = self.cfg.batch_size
        for _ in range(gan.g_steps):
            z = torch.randn(b, *self.latent, device=self.device)
            with self.amp():
                # non-saturating loss: the generator wants its samples called real
                g_loss = F.binary_cross_entropy_with_logits(self.D(self.G(z)), self.ones)
            self.update_g(g_loss)
        self._g_loss = g_loss.detach()
        return d_loss.detach()

    def step_extra(self) -> dict[str, torch.Tensor]:
        return {"generator_loss": self._g_loss}

    def generate(self, z: torch.Tensor) -> torch.Tensor:
        self.G.eval()
        try:
            with torch.no_grad():
                return self.G(z).float()
        finally:
            self.G.train()

    def evaluate(self) -> Evaluation:
        ev = Evaluation()
        if self.centres is not None and self.std is not None:
            from studio.data import modes_covered

            samples = self.generate(self.eval_z).cpu().numpy().reshape(EVAL_SAMPLES, -1)
            ev.extra["modes_covered"] = modes_covered(samples, self.centres, self.std, within=3.0,
                                                      min_share=MODE_SHARE)
        return ev

    def probe(self, probes, step: int, epoch: int) -> ProbeEvent:
        n = min(PROBE_SAMPLES, 2 * probes.batch)  # fewer at a cheaper level
        z = self.eval_z[:n]
        real = self.real[:n]
        acts = {}
        if probes.activations:
            for net, x in ((self.G, z), (self.D, real)):
                net.eval()
                try:
                    acts.update(activation_stats(record_outputs(net, (x,)), probes.bins))
                finally:
                    net.train()
        grads = grad_norms(self.networks) if probes.gradients else {}
        samples = {}
        if probes.samples:
            samples = {"generated": self.generate(z).cpu().numpy(), "real": real.float().cpu().numpy()}
        return ProbeEvent(step, epoch, acts, grads, None, samples)

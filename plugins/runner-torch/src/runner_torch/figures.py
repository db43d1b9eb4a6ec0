"""The loss-curve figure (built without pyplot, so no display or global state is involved)."""

from __future__ import annotations

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from runner_torch.training import History


def loss_curve_figure(history: History) -> Figure:
    """Training and validation loss per epoch, validation accuracy beside them."""
    epochs = [e.epoch for e in history.epochs]
    figure = Figure(figsize=(9, 3.6), layout="constrained")
    loss_ax, acc_ax = figure.subplots(1, 2)
    loss_ax.plot(epochs, [e.loss for e in history.epochs], label="loss (train)")
    loss_ax.plot(epochs, [e.val_loss for e in history.epochs], label="val_loss")
    if history.best_epoch:
        loss_ax.axvline(history.best_epoch, color="grey", linestyle=":", label="lowest val_loss")
    loss_ax.set_xlabel("epoch")
    loss_ax.set_ylabel("cross-entropy")
    loss_ax.legend()
    acc_ax.plot(epochs, [e.val_accuracy for e in history.epochs], color="tab:green")
    acc_ax.set_xlabel("epoch")
    acc_ax.set_ylabel("val_accuracy")
    acc_ax.set_ylim(0, 1.02)
    for ax in (loss_ax, acc_ax):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    figure.suptitle("Learning curves")
    return figure

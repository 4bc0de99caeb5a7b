"""Synthetic source exports with the mess real data has, and the ground truth behind them."""

from insight_hub.demo.generator import DemoConfig, generate

__all__ = ["DemoConfig", "generate"]

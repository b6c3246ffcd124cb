from __future__ import annotations

import json

import pytest
import torch
from click.testing import CliRunner

from generate import cli


def test_train_one_experiment_then_reuse_it(tmp_path) -> None:
    runner = CliRunner()
    args = ["train", "--only", "logistic", "--device", "cpu", "--site", str(tmp_path)]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "logistic: trained" in result.output
    payload = json.loads((tmp_path / "data" / "logistic.json").read_text())
    assert payload["slug"] == "logistic" and payload["architecture"]["num_params"] == 9
    again = runner.invoke(cli, args)
    assert again.exit_code == 0 and "logistic: cached, up to date" in again.output


def test_unknown_slug_is_a_usage_error_listing_valid_ones(tmp_path) -> None:
    result = CliRunner().invoke(cli, ["train", "--only", "mlp-d7-w5", "--site", str(tmp_path)])
    assert result.exit_code == 2
    assert "'mlp-d7-w5' is not one of" in result.output and "'mlp-d20-w5-skip'" in result.output
    assert not (tmp_path / "data").exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message a CPU-only machine gives")
def test_cuda_on_a_cpu_machine_is_one_clear_line(tmp_path) -> None:
    result = CliRunner().invoke(cli, ["train", "--only", "logistic", "--device", "cuda", "--site", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output.strip() == "Error: device='cuda': CUDA is not available on this machine " \
                                    "(use --device cpu or auto)"

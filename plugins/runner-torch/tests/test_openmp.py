"""torch's OpenMP workers must not spin on a shared CPU: the policy is set before torch loads."""

from __future__ import annotations

import os
import subprocess
import sys

SPY = """
import os, sys
seen = []
class Spy:  # records OMP_WAIT_POLICY at the moment torch is first imported
    def find_spec(self, name, path=None, target=None):
        if name == "torch" and not seen:
            seen.append(os.environ.get("OMP_WAIT_POLICY"))
        return None
sys.meta_path.insert(0, Spy())
import runner_torch.experiment
print(seen[0] if seen else "torch already imported")
"""


def _policy_seen_by_torch(**env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    out = subprocess.run([sys.executable, "-c", SPY], env={**clean, **env},
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_passive_wait_policy_is_set_before_torch_is_imported() -> None:
    assert _policy_seen_by_torch() == "PASSIVE"


def test_a_users_wait_policy_is_kept() -> None:
    assert _policy_seen_by_torch(OMP_WAIT_POLICY="ACTIVE") == "ACTIVE"

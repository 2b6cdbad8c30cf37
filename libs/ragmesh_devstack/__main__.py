"""python -m ragmesh_devstack up|down|status"""

from __future__ import annotations

import sys

from ragmesh_devstack import stack
from ragmesh_devstack.settings import StackSettings


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "status"
    settings = StackSettings()
    if command == "up":
        try:
            keys = stack.up(settings)
        except stack.StartFailed as error:
            print(f"ragmesh: start failed: {error}", file=sys.stderr)
            return 1
        print("ragmesh is up.")
        print(f"  gateway        {keys['GATEWAY_ADDR']} (gRPC, reflection on)")
        print(f"  jaeger         {keys['JAEGER_QUERY_URL']}/api/traces/<trace id>")
        print(f"  dev API key    {keys['RAGMESH_API_KEY']} (tenant 'default')")
        print(f"  env file       {settings.run_dir / 'dev.env'}; logs in {settings.run_dir / 'logs'}/")
        return 0
    if command == "down":
        stopped = stack.down(settings)
        print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
        return 0
    if command == "status":
        report = stack.status(settings)
        for name, state in report.items():
            print(f"{name:<10} {state}")
        return 0 if all("ready" in state and "NOT" not in state for state in report.values()) else 3
    print(f"usage: python -m ragmesh_devstack up|down|status (got {command!r})", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))

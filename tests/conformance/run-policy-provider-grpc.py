#!/usr/bin/env python3
"""Policy conformance in provider mode over gRPC (upstream's gRPC mode):
run-policy-provider.py with --mode grpc, that is
    sluice conform --grpc HOST:PORT --input I --output O --stats S ...
against a PolicyService/Sync server (sync_server_pb.py: Python's protobuf
and h2) serving each provider_only case's policies.json. Same checks and
options as run-policy-provider.py; its own ctest entry
(conformance_policy-provider-grpc). The last line is
'policy-provider: N passed, N failed'."""
import importlib.machinery, importlib.util, os, sys

HERE = os.path.dirname(os.path.abspath(__file__))
loader = importlib.machinery.SourceFileLoader("run_policy_provider",
                                              os.path.join(HERE, "run-policy-provider.py"))
spec = importlib.util.spec_from_loader("run_policy_provider", loader)
mod = importlib.util.module_from_spec(spec)
loader.exec_module(mod)

if __name__ == "__main__":
    if "--mode" not in sys.argv:
        sys.argv[1:1] = ["--mode", "grpc"]
    sys.exit(mod.main())

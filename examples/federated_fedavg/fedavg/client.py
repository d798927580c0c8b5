"""FedAvg edge (rank 1..N): fetch the global model, train on the local slice, send it back."""
import json
import os
import sys
import time
import urllib.error
import urllib.request

from common import dumps, edge_slice, env_float, env_int, local_train, make_data

RANK = env_int("FEDML_CLIENT_RANK", 1)
NUM_EDGES = env_int("FEDML_NUM_EDGES", 1)
EPOCHS = env_int("FEDML_ENV_FL_ARGS_LOCAL_EPOCHS", 1)
LR = env_float("FEDML_ENV_FL_ARGS_LEARNING_RATE", 0.1)
# host:port of the FL server node, as its agent advertises it (see the agent's --address).
SERVER = os.environ.get("FEDML_FL_SERVER_ADDR", "127.0.0.1:40000")


def call(path, body=None, patience_s=180):
    """The server may start after us, or be briefly busy: retry until it answers."""
    deadline = time.time() + patience_s
    while True:
        try:
            request = urllib.request.Request(f"http://{SERVER}{path}", data=body, method="POST" if body else "GET")
            if body:
                request.add_header("content-type", "application/json")
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read())
        except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
            if time.time() > deadline:
                raise SystemExit(f"edge {RANK}: FL server {SERVER} unreachable: {error}")
            time.sleep(0.3)


def main():
    train, _ = make_data()
    mine = edge_slice(train, RANK, NUM_EDGES)
    print(f"edge {RANK}/{NUM_EDGES}: {len(mine)} local samples, server {SERVER}", flush=True)
    wanted = 1
    while True:
        answer = call(f"/model?round={wanted}&rank={RANK}")
        if answer.get("done"):
            print(f"edge {RANK}: training finished", flush=True)
            return 0
        if answer.get("wait"):
            continue
        weights = local_train(answer["weights"], mine, EPOCHS, LR)
        call("/update", dumps({"rank": RANK, "round": answer["round"], "weights": weights, "samples": len(mine)}))
        print(f"edge {RANK}: round {answer['round']} update sent", flush=True)
        wanted = answer["round"] + 1


if __name__ == "__main__":
    sys.exit(main())

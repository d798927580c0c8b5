"""FedAvg server (rank 0): hands out the global model, averages the edges' updates per round."""
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from common import FEATURES, accuracy, dumps, env_int, make_data

ROUNDS = env_int("FEDML_ENV_FL_ARGS_ROUNDS", 5)
NUM_EDGES = env_int("FEDML_NUM_EDGES", 1)
PORT = env_int("FEDML_NODE_0_PORT", 40000)

_, test = make_data()
lock = threading.Condition()
state = {"round": 1, "weights": [0.0] * (FEATURES + 1), "updates": {}, "done_edges": set()}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, obj, status=200):
        body = dumps(obj)
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        url = urlparse(self.path)
        wanted = int(parse_qs(url.query).get("round", ["1"])[0])
        rank = int(parse_qs(url.query).get("rank", ["0"])[0])
        with lock:
            lock.wait_for(lambda: state["round"] >= wanted, timeout=20)
            if state["round"] > ROUNDS:
                state["done_edges"].add(rank)
                lock.notify_all()
                return self.answer({"done": True})
            if state["round"] < wanted:
                return self.answer({"wait": True})
            return self.answer({"round": state["round"], "weights": state["weights"]})

    def do_POST(self):
        update = json.loads(self.rfile.read(int(self.headers["content-length"])))
        with lock:
            if update["round"] == state["round"]:
                state["updates"][update["rank"]] = update
                if len(state["updates"]) == NUM_EDGES:
                    aggregate()
            self.answer({"ok": True})


def aggregate():
    """Weighted average of the edges' models (by their sample counts), then the next round."""
    updates = list(state["updates"].values())
    total = sum(u["samples"] for u in updates)
    state["weights"] = [
        sum(u["weights"][i] * u["samples"] for u in updates) / total for i in range(FEATURES + 1)
    ]
    print(f"round {state['round']}/{ROUNDS} global model test accuracy {accuracy(state['weights'], test):.4f}", flush=True)
    state["updates"] = {}
    state["round"] += 1
    lock.notify_all()


def main():
    # 0.0.0.0: edges on other machines reach this port at the address our agent advertises.
    server = ThreadingHTTPServer(("0.0.0.0", PORT), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"FedAvg server on port {PORT}: {NUM_EDGES} edges, {ROUNDS} rounds", flush=True)
    print(f"round 0/{ROUNDS} global model test accuracy {accuracy(state['weights'], test):.4f}", flush=True)
    with lock:
        lock.wait_for(lambda: state["round"] > ROUNDS and len(state["done_edges"]) >= NUM_EDGES, timeout=600)
        finished = state["round"] > ROUNDS
    time.sleep(0.2)
    server.shutdown()
    print("training finished" if finished else "timed out waiting for the edges", flush=True)
    sys.exit(0 if finished else 1)


if __name__ == "__main__":
    main()

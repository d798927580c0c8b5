"""Serves a tiny logistic regression: POST /predict {"inputs": [[x1, x2], ...]} -> {"outputs": [p, ...]}.
GET / is the readiness probe; POST /echo streams the request body back and GET /stream?n=N&gap_ms=G
answers N chunks G ms apart (chunked transfer encoding, as token streaming does). GET /ready is a
readiness probe path (serving_args.readiness_probe_path) that answers 503 after POST /unready."""
import json
import math
import os
import time
from urllib.parse import parse_qs, urlparse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

WEIGHTS = [1.5, -2.0]
BIAS = 0.25
PORT = int(os.environ.get("FEDML_SERVING_PORT", "8080"))
ENDPOINT = os.environ.get("FEDML_ENDPOINT_ID", "local")
RUN = os.environ.get("FEDML_CURRENT_RUN_ID", "local")
VERSION = os.environ.get("MODEL_VERSION", "v1")
READY = {"ready": True}


def predict(x):
    z = BIAS + sum(w * v for w, v in zip(WEIGHTS, x))
    return 1 / (1 + math.exp(-z))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Buffered: an answer leaves in one write when the handler returns (the server flushes after
    # each request; /stream flushes each chunk itself). Unbuffered, the headers went out first
    # and a replica killed between the two writes left the proxy a started answer it cannot retry.
    wbufsize = -1

    def log_message(self, *args):
        pass

    def answer(self, obj, status=200):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path.startswith("/ready"):
            return self.answer({"ready": READY["ready"], "run": RUN}, 200 if READY["ready"] else 503)
        if self.path.startswith("/stream"):
            query = parse_qs(urlparse(self.path).query)
            count = int(query.get("n", ["5"])[0])
            gap = int(query.get("gap_ms", ["0"])[0]) / 1000
            self.send_response(200)
            self.send_header("content-type", "text/plain")
            self.send_header("transfer-encoding", "chunked")
            self.end_headers()
            for i in range(count):
                if i > 0 and gap > 0:
                    time.sleep(gap)
                data = f"chunk {i}\n".encode()
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            return
        self.answer({"model": "tiny-logistic", "version": VERSION, "endpoint": ENDPOINT, "run": RUN, "path": self.path, "ready": True})

    def do_POST(self):
        length = int(self.headers.get("content-length", "0"))
        if self.path.startswith("/echo"):
            # Chunk by chunk: nothing holds the whole body.
            self.send_response(200)
            self.send_header("content-type", "application/octet-stream")
            self.send_header("content-length", str(length))
            self.end_headers()
            left = length
            while left > 0:
                chunk = self.rfile.read(min(65536, left))
                if not chunk:
                    break
                self.wfile.write(chunk)
                left -= len(chunk)
            return
        if self.path.startswith("/unready"):
            READY["ready"] = False
            return self.answer({"ready": False, "run": RUN})
        if self.path.startswith("/predict"):
            try:
                inputs = json.loads(self.rfile.read(length))["inputs"]
                return self.answer({"outputs": [round(predict(x), 6) for x in inputs]})
            except (ValueError, KeyError, TypeError) as error:
                return self.answer({"error": f"expected {{\"inputs\": [[x1, x2], ...]}}: {error}"}, 400)
        self.answer({"error": f"no route {self.path}"}, 404)


if __name__ == "__main__":
    print(f"serving tiny-logistic on port {PORT} (endpoint {ENDPOINT})", flush=True)
    ThreadingHTTPServer(("0.0.0.0", PORT), Handler).serve_forever()

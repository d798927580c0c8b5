"""Shared by server and edges: the generated data set, the model and its maths (stdlib only)."""
import json
import math
import os
import random

FEATURES = 8
SAMPLES = 2400
TEST_SAMPLES = 600


def env_int(name, default):
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


def env_float(name, default):
    value = os.environ.get(name, "")
    return float(value) if value.strip() else default


def make_data(seed=7):
    """Two noisy classes split by a hidden hyperplane; the same for every node (fixed seed).
    Features have very different scales, so gradient descent needs several rounds to get there."""
    rng = random.Random(seed)
    hidden = [rng.uniform(-2, 2) for _ in range(FEATURES)]
    scales = [0.2 + 4.8 * i / (FEATURES - 1) for i in range(FEATURES)]
    rows = []
    for _ in range(SAMPLES + TEST_SAMPLES):
        x = [rng.gauss(0, 1) * s + 1.0 for s in scales]
        score = sum(h * v / s for h, v, s in zip(hidden, x, scales)) - 2.0 + rng.gauss(0, 0.5)
        rows.append((x, 1 if score > 0 else 0))
    return rows[:SAMPLES], rows[SAMPLES:]


def edge_slice(train, rank, num_edges):
    """Edge `rank` (1..num_edges) holds every num_edges-th sample starting at rank-1."""
    return train[rank - 1 :: num_edges]


def sigmoid(z):
    return 1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z))


def predict(weights, x):
    return sigmoid(weights[-1] + sum(w * v for w, v in zip(weights, x)))


def accuracy(weights, rows):
    return sum(1 for x, y in rows if (predict(weights, x) >= 0.5) == (y == 1)) / len(rows)


def local_train(weights, rows, epochs, lr):
    """Full-batch gradient descent on the log loss."""
    w = list(weights)
    for _ in range(epochs):
        grad = [0.0] * (FEATURES + 1)
        for x, y in rows:
            err = predict(w, x) - y
            for i, v in enumerate(x):
                grad[i] += err * v
            grad[-1] += err
        w = [wi - lr * g / len(rows) for wi, g in zip(w, grad)]
    return w


def dumps(obj):
    return json.dumps(obj).encode()

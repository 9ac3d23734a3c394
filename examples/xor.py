"""XOR with a two-layer ReLU network: first with hand-set weights, then trained from random weights.

    h = relu(x @ W + c),  y = h @ w + b

Run: python examples/xor.py
"""

import numpy as np

import graphc

x = graphc.input("x", ("batch", 2))
target = graphc.input("target", ("batch",))
W = graphc.param("W", (2, 2), init="he_uniform")
c = graphc.param("c", (2,), init="zeros")
w = graphc.param("w", (2,), init="glorot_uniform")
b = graphc.param("b", (), init="zeros")

hidden = graphc.relu(x @ W + c)
y = hidden @ w + b
loss = graphc.mse(y, target)

inputs = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
targets = np.array([0, 1, 1, 0], dtype=np.float32)

# 1. The textbook solution (Goodfellow et al., Deep Learning, 6.1): both hidden units sum the inputs,
#    the second one shifted by -1, and the output subtracts it twice.
hand_set = {
    "W": np.array([[1, 1], [1, 1]], np.float32),
    "c": np.array([0, -1], np.float32),
    "w": np.array([1, -2], np.float32),
    "b": np.array(0, np.float32),
}
outputs = graphc.evaluate(y, {**hand_set, "x": inputs})
print("hand-set weights:")
for row, value in zip(inputs, outputs):
    print(f"  xor({int(row[0])}, {int(row[1])}) = {value:g}")

# 2. The same network from random weights, by plain gradient descent with graphc.grad and graphc.evaluate.
#    With only two ReLU units most starts end in a local minimum (a unit that never fires, loss 1/6 or 1/4),
#    so we restart from the next seed until one solves XOR, and show every attempt.
params = [W, c, w, b]
gradients = graphc.grad(loss, params)
learning_rate = np.float32(0.1)


def train(seed: int, steps: int = 1000, report_every: int = 0):
    values = graphc.init_params(params, seed=seed)
    for step in range(steps + 1):
        feeds = {**values, "x": inputs, "target": targets}
        current, *grads = graphc.evaluate([loss] + gradients, feeds)
        if report_every and step % report_every == 0:
            print(f"    step {step:4d}  loss {current:.6f}")
        if step < steps:
            for param, gradient in zip(params, grads):
                values[param.name] = values[param.name] - learning_rate * gradient
    return float(current), values


print("trained from random weights (plain gradient descent, lr 0.1, 1000 steps):")
for seed in range(20):
    final, values = train(seed)
    print(f"  seed {seed:2d}: final loss {final:.6f}{'  <- solved' if final < 1e-3 else ''}")
    if final < 1e-3:
        break
print(f"  the loss curve of seed {seed}:")
train(seed, report_every=200)
outputs = graphc.evaluate(y, {**values, "x": inputs})
for row, value in zip(inputs, outputs):
    print(f"  xor({int(row[0])}, {int(row[1])}) = {value:.3f}")

"""The GIL is released while the C++ loop runs, and held around the calls of the Python model.

With a switch interval far longer than the test, Python never takes the GIL from a running thread: a
second thread runs only when the sampling thread gives the GIL up itself. That thread counts how often it
runs (sleeping briefly between counts, so that it hands the GIL back at once). Between two calls of a model
that itself never gives the GIL up, the count can then only grow if the C++ loop released the GIL for its
update passes; and a C++ call known to hold the GIL (mrsolve.fill_normal) lets it grow by nothing, which
shows that the measurement can fail.
"""

import sys
import threading
import time

import torch

import mrsolve


class Counter(threading.Thread):
    def __init__(self):
        super().__init__(daemon=True)
        self.count = 0
        self.stop = False

    def run(self):
        while not self.stop:
            self.count += 1
            time.sleep(0.0001)  # hands the GIL back at once


def with_counter(body):
    old = sys.getswitchinterval()
    counter = Counter()
    sys.setswitchinterval(1000.0)
    try:
        counter.start()
        while counter.count == 0:
            time.sleep(0.001)
        return body(counter)
    finally:
        counter.stop = True
        sys.setswitchinterval(old)
        counter.join()


def test_the_loop_releases_the_gil_between_model_calls():
    sde = mrsolve.IRSDETable()
    mu = torch.rand(1 << 22)  # 4M elements: each fused update pass takes milliseconds
    output = torch.zeros_like(mu)

    def body(counter):
        seen = []

        def model(x, mu_, t):
            seen.append(counter.count)  # no torch call here: the model never gives the GIL up itself
            return output
        mrsolve.sample(model, mu, sde=sde, nfe=8, solver="ode", fit_target="data")
        return seen[-1] - seen[0]
    assert with_counter(body) > 0


def test_a_cpp_call_that_holds_the_gil_lets_the_counter_stand_still():
    z = torch.empty(1 << 23)

    def body(counter):
        before = counter.count
        for step in range(5):
            mrsolve.fill_normal(z, seed=1, step=step)  # bound without releasing the GIL
        return counter.count - before
    assert with_counter(body) == 0

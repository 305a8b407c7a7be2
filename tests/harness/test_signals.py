"""SIGTERM/SIGINT: raised anywhere once installed, held through bookkeeping and delivered after it,
raised at once by a run's guard when they came while the run was being set up."""
from __future__ import annotations

import os
import signal

import pytest

from repro.harness import signals


@pytest.fixture
def installed():
    previous = signals.install()
    yield
    signals.restore(previous)


def test_installed_signals_raise_interrupted_with_the_documented_exit_code(installed):
    with pytest.raises(signals.Interrupted) as err:
        os.kill(os.getpid(), signal.SIGTERM)
    assert err.value.exit_code == 143 and "SIGTERM" in str(err.value)
    with pytest.raises(signals.Interrupted) as err:
        os.kill(os.getpid(), signal.SIGINT)
    assert err.value.exit_code == 130


def test_held_finishes_the_block_then_delivers(installed):
    steps = []
    with pytest.raises(signals.Interrupted):
        with signals.held() as note:
            os.kill(os.getpid(), signal.SIGTERM)
            steps.append("after the signal")        # the block is not cut in half
            assert note.signum == signal.SIGTERM
    assert steps == ["after the signal"]


def test_held_lets_its_owner_take_the_signal(installed):
    with signals.held() as note:
        os.kill(os.getpid(), signal.SIGINT)
        os.kill(os.getpid(), signal.SIGTERM)        # the first one is what counts
        assert note.take() == signal.SIGINT
    # taken: nothing delivered on the way out


def test_a_guard_raises_a_signal_that_came_before_it(installed):
    with signals.held():
        os.kill(os.getpid(), signal.SIGTERM)
        with signals.raising():
            with pytest.raises(signals.Interrupted) as err:
                signals.raise_pending()
    assert err.value.signum == signal.SIGTERM


def test_nested_held_passes_the_signal_outwards(installed):
    with signals.held() as outer:
        with signals.held():
            os.kill(os.getpid(), signal.SIGTERM)
        assert outer.signum == signal.SIGTERM
        outer.take()


def test_restore_puts_back_what_was_there():
    before = signal.getsignal(signal.SIGTERM)
    previous = signals.install()
    assert signal.getsignal(signal.SIGTERM) is not before
    signals.restore(previous)
    assert signal.getsignal(signal.SIGTERM) == before

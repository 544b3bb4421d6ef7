/**
 * Every property ends in bounded time, shrinking included: a failing property over engine jobs
 * could otherwise shrink on past its test's timeout and keep jest from exiting. Interrupted, it
 * fails with the smallest counterexample found so far. A property that needs longer says so.
 */
import fc from 'fast-check';

fc.configureGlobal({ interruptAfterTimeLimit: 50_000, markInterruptAsFailure: true });

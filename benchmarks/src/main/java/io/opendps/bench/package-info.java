/**
 * JMH micro-benchmarks of the per-registration hot paths: device SAS parsing and verification, group key
 * derivation, X.509 chain validation and hashed allocation. Built only with the {@code bench} Maven profile; how to
 * run them and the latest numbers are in {@code BENCHMARKS.md}. Each benchmark returns its result so the JIT cannot
 * remove the work.
 */
package io.opendps.bench;

/**
 * Simulated DPS devices: an independent MQTT client (HiveMQ MQTT client, not the Azure SDK) that provisions the
 * way the Azure quickstart sample does, and the {@code device provision} command built on it.
 *
 * <p>All simulated devices share the threads of one {@link io.opendps.sim.SimulatorRuntime}; no device owns a
 * thread.
 */
@NullMarked
package io.opendps.sim;

import org.jspecify.annotations.NullMarked;

/**
 * Simulated DPS devices: an independent MQTT client (HiveMQ MQTT client, not the Azure SDK) that provisions the
 * way the Azure quickstart sample does, and the {@code device provision} command built on it.
 *
 * <p>All simulated MQTT devices share the threads of one {@link io.opendps.sim.SimulatorRuntime}; no device owns a
 * thread. {@code device provision --transport https} is the exception by design: {@code DpsHttps} is one blocking
 * JDK {@code HttpClient} attempt on the command's own thread (it waits out {@code Retry-After} there), since the
 * command provisions a single device; the load harness stays on MQTT.
 */
@NullMarked
package io.opendps.sim;

import org.jspecify.annotations.NullMarked;

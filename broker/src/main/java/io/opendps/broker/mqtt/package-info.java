/**
 * The DPS MQTT surface as plain strings: the CONNECT username and the request and response topics. Nothing here
 * depends on HiveMQ or Netty, so the parsers can be unit- and property-tested in isolation.
 *
 * <p>Every type in this package is null-marked: parameters and return values are non-null unless annotated
 * {@link org.jspecify.annotations.Nullable}.
 */
@NullMarked
package io.opendps.broker.mqtt;

import org.jspecify.annotations.NullMarked;

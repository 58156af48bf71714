/** The OpenDPS server runtime: {@link io.opendps.broker.OpenDpsServer} and its options. */
@NullMarked
package io.opendps.broker;

import org.jspecify.annotations.NullMarked;

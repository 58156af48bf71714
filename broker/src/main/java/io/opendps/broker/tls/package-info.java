/**
 * The server's TLS identity: a private certificate authority and a server certificate kept in the data directory,
 * plus reusable X.509 and PEM helpers ({@link io.opendps.broker.tls.Certificates}) and the device listener's
 * client-certificate trust ({@link io.opendps.broker.tls.DeviceClientTrust}).
 */
@NullMarked
package io.opendps.broker.tls;

import org.jspecify.annotations.NullMarked;

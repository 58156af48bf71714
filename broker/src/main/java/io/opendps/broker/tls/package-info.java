/**
 * The server's TLS identity: a private certificate authority and a server certificate kept in the data directory,
 * plus reusable X.509 and PEM helpers ({@link io.opendps.broker.tls.Certificates}).
 */
@NullMarked
package io.opendps.broker.tls;

import org.jspecify.annotations.NullMarked;

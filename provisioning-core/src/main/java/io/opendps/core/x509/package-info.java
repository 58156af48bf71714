/**
 * X.509 for device attestation: parsing the certificate encodings clients send ({@link
 * io.opendps.core.x509.CertificateCodec}), the wire shapes of the X.509 attestation and registration result, and
 * chain validation against enrollment-group anchors ({@link io.opendps.core.x509.X509ChainValidator}). All
 * cryptography is the JDK's ({@code CertificateFactory}, PKIX); no hand-written ASN.1.
 */
@NullMarked
package io.opendps.core.x509;

import org.jspecify.annotations.NullMarked;

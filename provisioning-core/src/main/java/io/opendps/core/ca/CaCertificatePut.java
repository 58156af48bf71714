package io.opendps.core.ca;

/**
 * The result of an upload: the stored certificate and whether the name was new (201) or replaced (200).
 *
 * @param certificate the stored certificate
 * @param created true when the name did not exist before
 */
public record CaCertificatePut(CaCertificate certificate, boolean created) {
}

/**
 * Shared access signature (SAS) tokens as used by Azure IoT Hub DPS devices and service clients: parsing,
 * verification, signing and group-enrollment key derivation.
 *
 * <p>Every type in this package is null-marked: parameters and return values are non-null unless annotated
 * {@link org.jspecify.annotations.Nullable}. Keys and signatures are never included in exception messages or
 * {@code toString()} output.
 */
@NullMarked
package io.opendps.core.sas;

import org.jspecify.annotations.NullMarked;

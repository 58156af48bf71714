/**
 * CA certificates registered on the service with proof of possession ({@code dps-service-api.md} §14), which
 * X.509 enrollment groups reference by name.
 */
@NullMarked
package io.opendps.core.ca;

import org.jspecify.annotations.NullMarked;

/**
 * The DPS MQTT surface as plain strings: the CONNECT username and the request and response topics. Nothing here
 * depends on HiveMQ or Netty, so the parsers can be unit- and property-tested in isolation.
 *
 * <p>TPM attestation over MQTT (an OpenDPS extension: the Azure SDKs do TPM over HTTPS and AMQP only) uses the
 * standard topics and adds no new ones, so symmetric-key and X.509 flows are untouched
 * ({@code dps-device-protocol.md} §7.3 mapped onto §2):
 * <ol>
 *   <li>CONNECT with the DPS username and <em>no password</em> (and no client certificate); PUBLISH
 *       {@code $dps/registrations/PUT/iotdps-register/?$rid=N} with
 *       {@code {"registrationId":..,"tpm":{"endorsementKey":<b64 TPM2B_PUBLIC>,"storageRootKey":<b64>}}};</li>
 *   <li>the answer is {@code $dps/registrations/res/401/?$rid=N} with
 *       {@code {"authenticationKey":<b64 activation blob>,"keyName":"registration"}} (no {@code status} key; an
 *       ordinary refusal is an error body with {@code errorCode} instead);</li>
 *   <li>the device imports the key in its TPM and opens a <em>new</em> connection whose MQTT password is a SAS token
 *       signed by the TPM (the password is fixed per connection), registers again with the same body and polls
 *       {@code $dps/registrations/GET/iotdps-get-operationstatus/?$rid=M&operationId=..} as usual;</li>
 *   <li>the {@code assigned} result carries {@code registrationState.tpm.authenticationKey}.</li>
 * </ol>
 * The broker only carries the bytes: {@code RegistrationReply.status()} and {@code body()} are published as they
 * are, the decisions live in the core registrar.
 *
 * <p>Every type in this package is null-marked: parameters and return values are non-null unless annotated
 * {@link org.jspecify.annotations.Nullable}.
 */
@NullMarked
package io.opendps.broker.mqtt;

import org.jspecify.annotations.NullMarked;

package io.opendps.core.service;

import io.opendps.core.error.ErrorCode;
import io.opendps.core.error.ProvisioningException;
import io.opendps.core.sas.SasFormatException;
import io.opendps.core.sas.SasOutcome;
import io.opendps.core.sas.SasToken;
import io.opendps.core.sas.SasVerifier;
import io.opendps.core.store.SettingsStore;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks the service API's {@code Authorization: SharedAccessSignature ...} header ({@code dps-service-api.md}
 * §2.2): the token names a policy ({@code skn}), is signed with one of its keys over one of this service's host
 * names, has not expired, and the policy holds the right the operation needs. Every refusal is a 401 that says
 * what was wrong without echoing secrets. Thread-safe.
 */
public final class ServiceAuthorizer {

    private static final Logger AUDIT = LoggerFactory.getLogger("io.opendps.audit");

    private final SettingsStore settings;
    private final List<String> hostNames;
    private final SasVerifier verifier;

    public ServiceAuthorizer(SettingsStore settings, Collection<String> hostNames, SasVerifier verifier) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.hostNames = List.copyOf(hostNames);
        this.verifier = Objects.requireNonNull(verifier, "verifier");
    }

    /** Returns the policy that authorised the request, or throws a 401 {@link ProvisioningException}. */
    public AccessPolicy authorize(@Nullable String authorization, AccessRight required) {
        if (authorization == null || authorization.isBlank()) {
            throw refuse("no Authorization header; send 'SharedAccessSignature sr=...&sig=...&se=...&skn=...' "
                    + "built from the service connection string", "missing");
        }
        SasToken token;
        try {
            token = SasToken.parse(authorization.trim());
        } catch (SasFormatException e) {
            throw refuse("malformed SAS token: " + e.getMessage(), "malformed");
        }
        String name = token.keyName();
        if (name == null || name.isEmpty()) {
            throw refuse("the SAS token names no policy (skn)", "no-skn");
        }
        AccessPolicy policy = settings.policies().stream().filter(p -> p.keyName().equalsIgnoreCase(name))
                .findFirst().orElseThrow(() -> refuse("unknown shared access policy '" + name + "'", "unknown-policy"));
        SasOutcome outcome = verifier.verifyService(token, hostNames, policy.keyBytes());
        switch (outcome) {
            case EXPIRED -> throw refuse("the SAS token has expired", "expired");
            case WRONG_AUDIENCE -> throw refuse("the SAS token's sr '" + token.decodedResource()
                    + "' is not this service's host name (" + String.join(", ", hostNames) + ")", "audience");
            case BAD_SIGNATURE -> throw refuse("the SAS token signature does not match policy '" + name + "'",
                    "signature");
            case VALID -> { }
            default -> throw new IllegalStateException("unexpected outcome " + outcome);
        }
        if (!policy.rights().contains(required)) {
            throw refuse("policy '" + policy.keyName() + "' lacks the " + required.wireName() + " right", "rights");
        }
        return policy;
    }

    private static ProvisioningException refuse(String message, String reason) {
        AUDIT.info("service request refused [reason: {}]", reason);
        return new ProvisioningException(ErrorCode.UNAUTHORIZED, "Unauthorized: " + message);
    }
}

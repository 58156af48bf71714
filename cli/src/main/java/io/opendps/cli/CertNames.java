package io.opendps.cli;

import java.util.regex.Pattern;

/** Checks the names that {@code opendps cert} puts into certificates and file names. */
final class CertNames {

    /** X.509 {@code ub-common-name}: a CN holds at most 64 characters. */
    static final int MAX_CN_LENGTH = 64;

    /** Registration ids (DPS identifier rules); as a certificate CN also at most 64 characters. */
    private static final Pattern REGISTRATION_ID =
            Pattern.compile("^[A-Za-z0-9](?:[A-Za-z0-9._:-]{0,126}[A-Za-z0-9-])?$");
    /** Verification codes as the service issues them (hex), with some slack for other alphabets. */
    private static final Pattern VERIFICATION_CODE = Pattern.compile("^[A-Za-z0-9._:-]{1,64}$");
    /** File name stems: no path separators, no leading dot. */
    private static final Pattern FILE_NAME = Pattern.compile("^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$");

    private CertNames() {
    }

    /** A CN for a CA: 1-64 characters, no control characters. */
    static String commonName(String cn) {
        if (cn.isBlank() || cn.length() > MAX_CN_LENGTH || cn.chars().anyMatch(Character::isISOControl)) {
            throw new IllegalArgumentException("invalid CN '" + cn + "': 1-" + MAX_CN_LENGTH
                    + " characters without control characters");
        }
        return cn;
    }

    /** A device CN, which is its registration id. */
    static String registrationId(String cn) {
        if (cn.length() > MAX_CN_LENGTH || !REGISTRATION_ID.matcher(cn).matches()) {
            throw new IllegalArgumentException("invalid registration id for a device CN '" + cn + "': 1-"
                    + MAX_CN_LENGTH + " characters of A-Z a-z 0-9 - . _ :, starting with a letter or digit and "
                    + "ending with a letter, digit or -");
        }
        return cn;
    }

    /** A verification code for a proof-of-possession certificate. */
    static String verificationCode(String code) {
        if (!VERIFICATION_CODE.matcher(code).matches()) {
            throw new IllegalArgumentException("invalid verification code '" + code + "': 1-" + MAX_CN_LENGTH
                    + " characters of A-Z a-z 0-9 - . _ :");
        }
        return code;
    }

    /** A file name stem for {@code NAME.pem} and friends. */
    static String fileName(String name) {
        if (!FILE_NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("invalid --name '" + name + "': 1-128 characters of A-Z a-z 0-9 - . _ :,"
                    + " starting with a letter or digit");
        }
        return name;
    }
}

package io.opendps.cli;

import java.util.Base64;
import java.util.HashMap;
import java.util.Map;

/**
 * A service connection string: {@code HostName=...;SharedAccessKeyName=...;SharedAccessKey=...}. The host may
 * carry {@code :port} when the server's HTTPS port is not 443 (the Azure Java service SDK cannot use such a
 * server; our CLI and the Azure CLI can).
 */
record ConnectionString(String host, int port, String keyName, byte[] key) {

    static ConnectionString parse(String text) {
        Map<String, String> parts = new HashMap<>();
        for (String part : text.trim().split(";")) {
            if (part.isBlank()) {
                continue;
            }
            int eq = part.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("connection string part '" + part.split("=")[0]
                        + "' has no '='; expected HostName=...;SharedAccessKeyName=...;SharedAccessKey=...");
            }
            parts.put(part.substring(0, eq).trim().toLowerCase(java.util.Locale.ROOT), part.substring(eq + 1).trim());
        }
        String hostName = require(parts, "hostname", "HostName");
        String keyName = require(parts, "sharedaccesskeyname", "SharedAccessKeyName");
        String key = require(parts, "sharedaccesskey", "SharedAccessKey");
        byte[] keyBytes;
        try {
            keyBytes = Base64.getDecoder().decode(key);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the connection string's SharedAccessKey is not valid base64");
        }
        int colon = hostName.lastIndexOf(':');
        if (colon > 0 && hostName.indexOf(':') == colon) {
            try {
                return new ConnectionString(hostName.substring(0, colon),
                        Integer.parseInt(hostName.substring(colon + 1)), keyName, keyBytes);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("the connection string's HostName '" + hostName
                        + "' has an invalid port");
            }
        }
        return new ConnectionString(hostName, 443, keyName, keyBytes);
    }

    private static String require(Map<String, String> parts, String key, String name) {
        String v = parts.get(key);
        if (v == null || v.isEmpty()) {
            throw new IllegalArgumentException("the connection string has no " + name
                    + "; expected HostName=...;SharedAccessKeyName=...;SharedAccessKey=...");
        }
        return v;
    }

    /** The same credentials against another endpoint (e.g. the port the server really listens on). */
    ConnectionString withEndpoint(String newHost, int newPort) {
        return new ConnectionString(newHost, newPort, keyName, key);
    }

    /**
     * Connection-string text for this endpoint with the given policy credentials; {@code :port} only when the
     * port is not 443, as the server writes it in {@code service.json}.
     */
    String text(String policyName, String base64Key) {
        return "HostName=" + host + (port == 443 ? "" : ":" + port) + ";SharedAccessKeyName=" + policyName
                + ";SharedAccessKey=" + base64Key;
    }

    @Override
    public String toString() {
        return "ConnectionString[host=" + host + ", port=" + port + ", keyName=" + keyName + "]";
    }
}

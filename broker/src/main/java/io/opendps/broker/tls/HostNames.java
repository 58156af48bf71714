package io.opendps.broker.tls;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.util.IPAddress;
import org.jspecify.annotations.Nullable;

/**
 * Host names as they appear in subject alternative names: classifies IP literals versus DNS names, validates them and
 * compares them canonically ({@code dns:example.com}, {@code ip:0:0:0:0:0:0:0:1}). Never performs a DNS lookup.
 * Stateless and thread-safe.
 */
final class HostNames {

  /** Names every server certificate covers, whatever the configuration says. */
  static final List<String> ALWAYS_COVERED = List.of("localhost", "127.0.0.1", "::1");

  private static final String LABEL = "[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?";
  private static final Pattern DNS_NAME = Pattern.compile("(?:\\*\\.)?" + LABEL + "(?:\\." + LABEL + ")*");
  private static final int SAN_DNS = 2;
  private static final int SAN_IP = 7;

  private HostNames() {}

  /**
   * {@link #ALWAYS_COVERED} followed by the given host names, trimmed, validated and de-duplicated in their order.
   *
   * @throws IllegalArgumentException if a name is neither an IP literal nor a syntactically valid DNS name
   */
  static List<String> withDefaults(Collection<String> hostNames) {
    Map<String, String> byCanonical = new LinkedHashMap<>();
    for (String host : ALWAYS_COVERED) {
      byCanonical.put(canonical(host), host);
    }
    for (String host : hostNames) {
      String normalized = normalize(host);
      byCanonical.putIfAbsent(canonical(normalized), normalized);
    }
    return List.copyOf(byCanonical.values());
  }

  /** A validated host name: an IP literal without brackets, or a lower-case DNS name. */
  static String normalize(String host) {
    String trimmed = host.trim();
    if (ipLiteral(trimmed) != null) {
      return unbracket(trimmed);
    }
    String dns = trimmed.toLowerCase(Locale.ROOT);
    if (dns.length() > 253 || !DNS_NAME.matcher(dns).matches()) {
      throw new IllegalArgumentException("not an IP address or DNS name [host: " + host + "]");
    }
    return dns;
  }

  /** The subject alternative name for a host: an IP SAN for an IPv4/IPv6 literal, else a DNS SAN. */
  static GeneralName toGeneralName(String host) {
    InetAddress ip = ipLiteral(host);
    if (ip != null) {
      return new GeneralName(GeneralName.iPAddress, new DEROctetString(ip.getAddress()));
    }
    return new GeneralName(GeneralName.dNSName, normalize(host));
  }

  /** The canonical comparison key of a host name. */
  static String canonical(String host) {
    InetAddress ip = ipLiteral(host);
    return ip != null ? "ip:" + ip.getHostAddress() : "dns:" + host.trim().toLowerCase(Locale.ROOT);
  }

  /** The canonical keys of the DNS and IP subject alternative names of a certificate. */
  static Set<String> coveredBy(X509Certificate certificate) {
    Set<String> covered = new TreeSet<>();
    Collection<List<?>> sans;
    try {
      sans = certificate.getSubjectAlternativeNames();
    } catch (CertificateParsingException e) {
      return covered;
    }
    if (sans == null) {
      return covered;
    }
    for (List<?> san : sans) {
      Object type = san.get(0);
      Object value = san.get(1);
      if ((Integer.valueOf(SAN_DNS).equals(type) || Integer.valueOf(SAN_IP).equals(type))
          && value instanceof String name) {
        covered.add(canonical(name));
      }
    }
    return covered;
  }

  /** The names among {@code hostNames} that {@code certificate} does not cover, in their given order. */
  static List<String> notCoveredBy(X509Certificate certificate, Collection<String> hostNames) {
    Set<String> covered = coveredBy(certificate);
    List<String> missing = new ArrayList<>();
    for (String host : hostNames) {
      if (!covered.contains(canonical(host))) {
        missing.add(host);
      }
    }
    return missing;
  }

  /** The address if {@code host} is an IPv4 or IPv6 literal (optionally in brackets), else {@code null}. */
  static @Nullable InetAddress ipLiteral(String host) {
    String candidate = unbracket(host.trim());
    if (!IPAddress.isValid(candidate)) {
      return null;
    }
    try {
      return InetAddress.getByName(candidate); // a literal: parsed, never resolved
    } catch (UnknownHostException e) {
      return null;
    }
  }

  private static String unbracket(String host) {
    return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
  }
}

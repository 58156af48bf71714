package io.opendps.core.json;

import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import java.io.IOException;
import java.time.Instant;
import java.util.Collection;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Turns a Jackson read failure into a message for the client that names the JSON path of the offending field,
 * e.g. {@code at 'attestation': expected a JSON object, got a string 'tpm'} or
 * {@code at 'provisioningStatus': unknown provisioningStatus 'sleeping': use enabled or disabled}.
 *
 * <p>Rules of thumb: a value our own types refused ({@link ValueInstantiationException}, e.g. an unknown enum value
 * or an incomplete {@code reprovisionPolicy}) is described by our message; a value of the wrong JSON type says what
 * was expected and what came; anything else keeps Jackson's first line with Java package names removed. Parser
 * positions and Java reference chains are never included. Stateless and thread-safe.
 */
public final class JsonProblem {

    private static final Pattern PACKAGE = Pattern.compile("`(?:[a-z][a-z0-9_]*\\.)+([A-Za-z_$][A-Za-z0-9_$]*)`");
    private static final Pattern GOT = Pattern.compile("from (\\S+) value(?: \\('(.*)'\\))?");

    private JsonProblem() {
    }

    /** {@code "at '<path>': <what is wrong>"}, or just the reason when the failure has no path (syntax errors). */
    public static String describe(IOException e) {
        String path = path(e);
        String detail = detail(e);
        return path.isEmpty() ? detail : "at '" + path + "': " + detail;
    }

    /** The JSON path of a mapping failure, e.g. {@code attestation.tpm} or {@code iotHubs[0]}; empty if none. */
    public static String path(IOException e) {
        if (!(e instanceof JsonMappingException m)) {
            return "";
        }
        StringBuilder path = new StringBuilder();
        for (JsonMappingException.Reference ref : m.getPath()) {
            if (ref.getFieldName() != null) {
                path.append(path.length() == 0 ? "" : ".").append(ref.getFieldName());
            } else if (ref.getIndex() >= 0) {
                path.append('[').append(ref.getIndex()).append(']');
            }
        }
        return path.toString();
    }

    private static String detail(IOException e) {
        if (e instanceof ValueInstantiationException v && v.getCause() != null && v.getCause().getMessage() != null) {
            return v.getCause().getMessage();
        }
        String original = e instanceof JsonMappingException m ? m.getOriginalMessage() : e.getMessage();
        if (e instanceof MismatchedInputException m && m.getTargetType() != null && original != null) {
            Matcher got = GOT.matcher(original);
            if (got.find()) {
                return "expected " + expected(m.getTargetType()) + ", got " + got(got.group(1), got.group(2));
            }
        }
        return PACKAGE.matcher(firstLine(original)).replaceAll("`$1`");
    }

    private static String expected(Class<?> type) {
        if (type == String.class) {
            return "a string";
        }
        if (type == Boolean.class || type == boolean.class) {
            return "true or false";
        }
        if (Number.class.isAssignableFrom(type) || type.isPrimitive()) {
            return "a number";
        }
        if (type == Instant.class) {
            return "an ISO-8601 date-time string";
        }
        if (Collection.class.isAssignableFrom(type) || type.isArray()) {
            return "a JSON array";
        }
        return type.isEnum() ? "a string" : "a JSON object";
    }

    private static String got(String kind, @Nullable String value) {
        String k = kind.toLowerCase(Locale.ROOT);
        String noun = switch (k) {
            case "object" -> "a JSON object";
            case "array" -> "a JSON array";
            case "string" -> "a string";
            case "integer", "floating-point" -> "a number";
            case "boolean" -> "a boolean";
            default -> "a " + k + " value";
        };
        return value == null ? noun : noun + " '" + value + "'";
    }

    private static String firstLine(@Nullable String text) {
        if (text == null) {
            return "unreadable JSON";
        }
        int nl = text.indexOf('\n');
        return nl < 0 ? text : text.substring(0, nl);
    }
}

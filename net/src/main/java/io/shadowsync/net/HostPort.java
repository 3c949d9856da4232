package io.shadowsync.net;

/** A {@code host:port} address (IPv6 hosts in brackets: {@code [::1]:7000}). */
public record HostPort(String host, int port) {
    public HostPort {
        if (host == null || host.isEmpty()) throw new IllegalArgumentException("empty host");
        if (port < 0 || port > 65535) throw new IllegalArgumentException("port " + port + " is not in 0..65535");
    }

    /** Parses {@code host:port}; the error names the text and what is wrong with it. */
    public static HostPort parse(String s) {
        if (s == null || s.isBlank()) throw new IllegalArgumentException("empty address: expected host:port");
        String t = s.strip();
        int colon = t.lastIndexOf(':');
        if (colon <= 0 || colon == t.length() - 1) {
            throw new IllegalArgumentException("address '" + s + "' is not host:port");
        }
        String host = t.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
        else if (host.indexOf(':') >= 0) throw new IllegalArgumentException("address '" + s + "': write IPv6 hosts in brackets, [::1]:7000");
        int port;
        try {
            port = Integer.parseInt(t.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("address '" + s + "': port '" + t.substring(colon + 1) + "' is not a number");
        }
        if (port < 1 || port > 65535) throw new IllegalArgumentException("address '" + s + "': port " + port + " is not in 1..65535");
        return new HostPort(host, port);
    }

    @Override
    public String toString() {
        return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
    }
}

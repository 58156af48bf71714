package io.opendps.sim;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.jspecify.annotations.Nullable;

/**
 * A scripted MQTT 3.1.1 server over TLS that plays the DPS side, for testing the simulated device without the real
 * server. Records what devices send; answers each PUBLISH through a {@link Responder}. Test infrastructure: one
 * blocking thread per connection is fine here.
 */
final class FakeDpsBroker implements AutoCloseable {

    /** A CONNECT as received. */
    record Connect(int protocolLevel, String clientId, @Nullable String username, @Nullable String password,
            boolean cleanSession, int keepAlive) {
    }

    /** One SUBSCRIBE entry. */
    record Subscribe(String filter, int qos) {
    }

    /** A PUBLISH from a device. */
    record Publish(String topic, int qos, byte[] payload) {
        String body() {
            return new String(payload, StandardCharsets.UTF_8);
        }

        String rid() {
            return parameter(topic, "$rid");
        }

        String operationId() {
            return parameter(topic, "operationId");
        }
    }

    /** A PUBLISH to send to the device. */
    record Answer(String topic, String body) {
    }

    /** Decides the answers to one request. */
    interface Responder {
        List<Answer> answer(Publish request);
    }

    /** Whether the TLS server asks for a client certificate. */
    enum ClientAuth {
        NONE, WANT, NEED
    }

    final List<Connect> connects = new CopyOnWriteArrayList<>();
    /** The client certificate chain of each connection that presented one, in handshake order. */
    final List<List<X509Certificate>> clientChains = new CopyOnWriteArrayList<>();
    final List<Subscribe> subscribes = new CopyOnWriteArrayList<>();
    final List<Publish> publishes = new CopyOnWriteArrayList<>();
    final AtomicInteger disconnects = new AtomicInteger();
    volatile int connAckCode;
    volatile int subAckCode = 1;
    volatile Responder responder = request -> List.of();

    private final SSLServerSocket server;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();

    private FakeDpsBroker(SSLServerSocket server) {
        this.server = server;
    }

    static FakeDpsBroker start(SSLContext context) throws IOException {
        return start(context, ClientAuth.NONE);
    }

    /**
     * Starts a broker that asks for client certificates; the context's trust manager decides which it accepts
     * (see {@link TestPki#serverContextTrustingDevices()}).
     */
    static FakeDpsBroker start(SSLContext context, ClientAuth clientAuth) throws IOException {
        SSLServerSocket socket = (SSLServerSocket) context.getServerSocketFactory()
                .createServerSocket(0, 50, InetAddress.getLoopbackAddress());
        socket.setEnabledProtocols(new String[] {"TLSv1.3", "TLSv1.2"});
        socket.setNeedClientAuth(clientAuth == ClientAuth.NEED);
        if (clientAuth == ClientAuth.WANT) {
            socket.setWantClientAuth(true);
        }
        FakeDpsBroker broker = new FakeDpsBroker(socket);
        Thread acceptor = new Thread(broker::acceptLoop, "fake-dps-accept");
        acceptor.setDaemon(true);
        acceptor.start();
        return broker;
    }

    int port() {
        return server.getLocalPort();
    }

    /** The value of a query parameter of a topic, or "" when absent. */
    static String parameter(String topic, String name) {
        int query = topic.indexOf('?');
        for (String pair : topic.substring(query + 1).split("&")) {
            if (pair.startsWith(name + "=")) {
                return pair.substring(name.length() + 1);
            }
        }
        return "";
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket socket : sockets) {
            socket.close();
        }
    }

    private void acceptLoop() {
        try {
            while (!server.isClosed()) {
                Socket socket = server.accept();
                sockets.add(socket);
                Thread thread = new Thread(() -> serve(socket), "fake-dps-conn");
                thread.setDaemon(true);
                thread.start();
            }
        } catch (IOException e) {
            // closed
        }
    }

    private void serve(Socket socket) {
        try (socket) {
            capturePeerChain((SSLSocket) socket);
            DataInputStream in = new DataInputStream(socket.getInputStream());
            OutputStream out = socket.getOutputStream();
            while (true) {
                int header = in.read();
                if (header < 0) {
                    return;
                }
                byte[] packet = new byte[remainingLength(in)];
                in.readFully(packet);
                if (!handle(header, ByteBuffer.wrap(packet), out)) {
                    return;
                }
            }
        } catch (IOException e) {
            // connection ended
        }
    }

    private void capturePeerChain(SSLSocket socket) throws IOException {
        socket.startHandshake();
        try {
            clientChains.add(Arrays.stream(socket.getSession().getPeerCertificates())
                    .map(X509Certificate.class::cast).toList());
        } catch (SSLPeerUnverifiedException e) {
            // no client certificate (symmetric-key device)
        }
    }

    private boolean handle(int header, ByteBuffer packet, OutputStream out) throws IOException {
        switch (header >> 4) {
            case 1 -> onConnect(packet, out);
            case 3 -> onPublish(header, packet, out);
            case 8 -> onSubscribe(packet, out);
            case 12 -> write(out, new byte[] {(byte) 0xD0, 0});
            case 14 -> {
                disconnects.incrementAndGet();
                return false;
            }
            default -> {
                // PUBACK and others: nothing to do
            }
        }
        return true;
    }

    private void onConnect(ByteBuffer packet, OutputStream out) throws IOException {
        string(packet);
        int level = packet.get() & 0xFF;
        int flags = packet.get() & 0xFF;
        int keepAlive = packet.getShort() & 0xFFFF;
        String clientId = string(packet);
        String username = (flags & 0x80) != 0 ? string(packet) : null;
        String password = (flags & 0x40) != 0 ? string(packet) : null;
        connects.add(new Connect(level, clientId, username, password, (flags & 0x02) != 0, keepAlive));
        write(out, new byte[] {0x20, 2, 0, (byte) connAckCode});
    }

    private void onSubscribe(ByteBuffer packet, OutputStream out) throws IOException {
        short packetId = packet.getShort();
        while (packet.hasRemaining()) {
            subscribes.add(new Subscribe(string(packet), packet.get() & 0xFF));
        }
        write(out, new byte[] {(byte) 0x90, 3, (byte) (packetId >> 8), (byte) packetId, (byte) subAckCode});
    }

    private void onPublish(int header, ByteBuffer packet, OutputStream out) throws IOException {
        int qos = (header >> 1) & 3;
        String topic = string(packet);
        if (qos > 0) {
            short packetId = packet.getShort();
            write(out, new byte[] {0x40, 2, (byte) (packetId >> 8), (byte) packetId});
        }
        byte[] payload = new byte[packet.remaining()];
        packet.get(payload);
        Publish request = new Publish(topic, qos, payload);
        publishes.add(request);
        for (Answer answer : responder.answer(request)) {
            write(out, publishPacket(answer));
        }
    }

    private static byte[] publishPacket(Answer answer) {
        byte[] topic = answer.topic().getBytes(StandardCharsets.UTF_8);
        byte[] body = answer.body().getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream variable = new ByteArrayOutputStream();
        variable.write(topic.length >> 8);
        variable.write(topic.length & 0xFF);
        variable.writeBytes(topic);
        variable.writeBytes(body);
        ByteArrayOutputStream packet = new ByteArrayOutputStream();
        packet.write(0x30);
        int length = variable.size();
        do {
            int digit = length % 128;
            length /= 128;
            packet.write(length > 0 ? digit | 0x80 : digit);
        } while (length > 0);
        packet.writeBytes(variable.toByteArray());
        return packet.toByteArray();
    }

    private static synchronized void write(OutputStream out, byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    private static int remainingLength(InputStream in) throws IOException {
        int value = 0;
        int multiplier = 1;
        int digit;
        do {
            digit = in.read();
            if (digit < 0) {
                throw new IOException("end of stream");
            }
            value += (digit & 0x7F) * multiplier;
            multiplier *= 128;
        } while ((digit & 0x80) != 0);
        return value;
    }

    private static String string(ByteBuffer packet) {
        byte[] bytes = new byte[packet.getShort() & 0xFFFF];
        packet.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }
}

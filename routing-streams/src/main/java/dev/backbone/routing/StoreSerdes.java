package dev.backbone.routing;

import dev.backbone.events.JsonSerde;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/**
 * Binary serdes for the values of the route processor's own stores, {@link CachedAnswer} and {@link RoutingTrace}.
 * The processor reads a cache entry and writes a trace for every request, and Jackson spent about a sixth of the
 * routing thread on them. Nothing outside Backbone reads these stores' changelogs; the REST API reads typed values.
 *
 * <p>Format: a version byte ({@value #VERSION}), then the fields in declaration order. Strings are written by
 * {@link DataOutputStream#writeUTF(String)} after a presence byte; lists as a count and their strings. The readers
 * also accept the JSON that earlier versions wrote (first byte {@code '{'}), so a changelog written by them restores.
 */
final class StoreSerdes {

    static final byte VERSION = 1;

    private StoreSerdes() {
    }

    static Serde<CachedAnswer> cachedAnswer() {
        return binarySerde(CachedAnswer.class, StoreSerdes::writeCachedAnswer, StoreSerdes::readCachedAnswer);
    }

    static Serde<RoutingTrace> routingTrace() {
        return binarySerde(RoutingTrace.class, StoreSerdes::writeTrace, StoreSerdes::readTrace);
    }

    private static void writeCachedAnswer(DataOutputStream out, CachedAnswer answer) throws IOException {
        writeString(out, answer.name());
        out.writeBoolean(answer.unknownHost());
        writeList(out, answer.addresses());
        writeString(out, answer.level());
        out.writeLong(answer.expiresAtMs());
    }

    private static CachedAnswer readCachedAnswer(DataInputStream in) throws IOException {
        return new CachedAnswer(readString(in), in.readBoolean(), readList(in), readString(in), in.readLong());
    }

    private static void writeTrace(DataOutputStream out, RoutingTrace trace) throws IOException {
        writeString(out, trace.requestId());
        writeString(out, trace.clientId());
        writeString(out, trace.host());
        writeString(out, trace.resolvedBy());
        out.writeBoolean(trace.dnsCacheHit());
        writeList(out, trace.skippedAddresses());
        writeString(out, trace.loadBalancer());
        writeString(out, trace.pool());
        writeString(out, trace.serverId());
        out.writeBoolean(trace.spilled());
        writeString(out, trace.outcome());
        out.writeInt(trace.status());
        writeString(out, trace.error());
        out.writeLong(trace.routedAtMs());
    }

    private static RoutingTrace readTrace(DataInputStream in) throws IOException {
        return new RoutingTrace(readString(in), readString(in), readString(in), readString(in), in.readBoolean(),
                readList(in), readString(in), readString(in), readString(in), in.readBoolean(), readString(in),
                in.readInt(), readString(in), in.readLong());
    }

    private static void writeString(DataOutputStream out, String value) throws IOException {
        out.writeBoolean(value != null);
        if (value != null) {
            out.writeUTF(value);
        }
    }

    private static String readString(DataInputStream in) throws IOException {
        return in.readBoolean() ? in.readUTF() : null;
    }

    private static void writeList(DataOutputStream out, List<String> values) throws IOException {
        out.writeInt(values.size());
        for (String value : values) {
            out.writeUTF(value);
        }
    }

    private static List<String> readList(DataInputStream in) throws IOException {
        int size = in.readInt();
        if (size < 0 || size > in.available()) {
            throw new IOException("list size " + size + " does not fit the remaining " + in.available() + " bytes");
        }
        var values = new ArrayList<String>(size);
        for (int i = 0; i < size; i++) {
            values.add(in.readUTF());
        }
        return values;
    }

    private interface Writer<T> {
        void write(DataOutputStream out, T value) throws IOException;
    }

    private interface Reader<T> {
        T read(DataInputStream in) throws IOException;
    }

    /** Returns a serde that writes the binary format and reads it or the JSON that earlier versions wrote. */
    private static <T> Serde<T> binarySerde(Class<T> type, Writer<T> writer, Reader<T> reader) {
        var json = new JsonSerde<>(type);
        return Serdes.serdeFrom(
                (topic, value) -> value == null ? null : write(type, writer, value),
                (topic, data) -> data == null ? null : read(type, reader, json, topic, data));
    }

    private static <T> byte[] write(Class<T> type, Writer<T> writer, T value) {
        var bytes = new ByteArrayOutputStream(128);
        try (var out = new DataOutputStream(bytes)) {
            out.writeByte(VERSION);
            writer.write(out, value);
        } catch (IOException e) {
            // A ByteArrayOutputStream does not throw; writeUTF does for a string over 65,535 bytes.
            throw new SerializationException("cannot write " + type.getSimpleName() + ": " + e.getMessage(), e);
        }
        return bytes.toByteArray();
    }

    private static <T> T read(Class<T> type, Reader<T> reader, JsonSerde<T> json, String topic, byte[] data) {
        if (data.length > 0 && data[0] == '{') {
            return json.deserialize(topic, data);
        }
        if (data.length == 0 || data[0] != VERSION) {
            throw new SerializationException("cannot read " + type.getSimpleName() + " from " + topic + ": format version "
                    + (data.length == 0 ? "missing" : data[0]) + ", expected " + VERSION + " or JSON");
        }
        try (var in = new DataInputStream(new ByteArrayInputStream(data, 1, data.length - 1))) {
            T value = reader.read(in);
            if (in.available() != 0) {
                throw new IOException(in.available() + " bytes left over");
            }
            return value;
        } catch (IOException | UncheckedIOException | IllegalArgumentException e) {
            throw new SerializationException("cannot read " + type.getSimpleName() + " from " + topic + ": " + e.getMessage(), e);
        }
    }
}

package dev.backbone.routing;

import dev.backbone.events.JsonSerde;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/**
 * Binary serdes for the values of the route processor's own stores, {@link CachedAnswer} and batches of
 * {@link RoutingTrace}.
 * The processor reads a cache entry and writes a trace for every request, and Jackson spent about a sixth of the
 * routing thread on them. Nothing outside Backbone reads these stores' changelogs; the REST API reads typed values.
 *
 * <p>Format: a version byte ({@value #VERSION}), then the fields in declaration order, numbers big-endian. Strings are
 * written as {@link DataOutputStream#writeUTF(String)} writes them, after a presence byte; lists as a count and their
 * strings. {@link Output} and {@link Input} write and read that format on a plain byte array, without the stream
 * classes' per-string copies. The readers also accept the JSON that earlier versions wrote (first byte {@code '{'}),
 * so a changelog written by them restores.
 */
final class StoreSerdes {

    static final byte VERSION = 1;

    private StoreSerdes() {
    }

    static Serde<CachedAnswer> cachedAnswer() {
        return binarySerde(CachedAnswer.class, StoreSerdes::writeCachedAnswer, StoreSerdes::readCachedAnswer);
    }

    /** The bytes before the first trace of a batch: the version. */
    static final int TRACE_BATCH_HEADER_BYTES = 1;

    /**
     * Returns an empty batch of routing traces, to fill with {@link #appendTrace(Output, RoutingTrace)}; truncating it
     * to {@link #TRACE_BATCH_HEADER_BYTES} empties it again.
     */
    static Output newTraceBatch(int capacity) {
        var batch = new Output(capacity);
        batch.writeByte(VERSION);
        return batch;
    }

    /**
     * Appends {@code trace} to {@code batch}: a batch is the version byte and its traces one after the other.
     *
     * @throws SerializationException when a string of the trace is longer than 65,535 bytes; the batch is then as it
     *                                was before the call
     */
    static void appendTrace(Output batch, RoutingTrace trace) {
        int length = batch.length();
        try {
            writeTrace(batch, trace);
        } catch (IllegalArgumentException e) {
            batch.truncate(length);
            throw new SerializationException("cannot write RoutingTrace of request '" + trace.requestId() + "': "
                    + e.getMessage(), e);
        }
    }

    /**
     * Reads a batch of routing traces that {@link #appendTrace(Output, RoutingTrace)} wrote, in the order they were
     * appended.
     *
     * @param source names the batch in the error message, such as the store and key
     * @throws SerializationException when the bytes are not such a batch
     */
    static List<RoutingTrace> readTraceBatch(String source, byte[] data) {
        if (data.length == 0 || data[0] != VERSION) {
            throw new SerializationException("cannot read routing trace batch " + source + ": format version "
                    + (data.length == 0 ? "missing" : data[0]) + ", expected " + VERSION);
        }
        var traces = new ArrayList<RoutingTrace>();
        var in = new Input(data, 1);
        try {
            while (in.available() > 0) {
                traces.add(readTrace(in));
            }
        } catch (IOException | IllegalArgumentException e) {
            throw new SerializationException("cannot read routing trace batch " + source + " after " + traces.size()
                    + " traces: " + e.getMessage(), e);
        }
        return traces;
    }

    private static void writeCachedAnswer(Output out, CachedAnswer answer) {
        writeString(out, answer.name());
        out.writeBoolean(answer.unknownHost());
        writeList(out, answer.addresses());
        writeString(out, answer.level());
        out.writeLong(answer.expiresAtMs());
    }

    private static CachedAnswer readCachedAnswer(Input in) throws IOException {
        return new CachedAnswer(readString(in), in.readBoolean(), readList(in), readString(in), in.readLong());
    }

    private static void writeTrace(Output out, RoutingTrace trace) {
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

    private static RoutingTrace readTrace(Input in) throws IOException {
        return new RoutingTrace(readString(in), readString(in), readString(in), readString(in), in.readBoolean(),
                readList(in), readString(in), readString(in), readString(in), in.readBoolean(), readString(in),
                in.readInt(), readString(in), in.readLong());
    }

    private static void writeString(Output out, String value) {
        out.writeBoolean(value != null);
        if (value != null) {
            out.writeUTF(value);
        }
    }

    private static String readString(Input in) throws IOException {
        return in.readBoolean() ? in.readUTF() : null;
    }

    private static void writeList(Output out, List<String> values) {
        out.writeInt(values.size());
        for (String value : values) {
            out.writeUTF(value);
        }
    }

    private static List<String> readList(Input in) throws IOException {
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
        void write(Output out, T value);
    }

    private interface Reader<T> {
        T read(Input in) throws IOException;
    }

    /** Returns a serde that writes the binary format and reads it or the JSON that earlier versions wrote. */
    private static <T> Serde<T> binarySerde(Class<T> type, Writer<T> writer, Reader<T> reader) {
        var json = new JsonSerde<>(type);
        return Serdes.serdeFrom(
                (topic, value) -> value == null ? null : write(type, writer, value),
                (topic, data) -> data == null ? null : read(type, reader, json, topic, data));
    }

    private static <T> byte[] write(Class<T> type, Writer<T> writer, T value) {
        var out = new Output(128);
        out.writeByte(VERSION);
        try {
            writer.write(out, value);
        } catch (IllegalArgumentException e) {
            // writeUTF rejects a string of more than 65,535 bytes, as DataOutputStream does.
            throw new SerializationException("cannot write " + type.getSimpleName() + ": " + e.getMessage(), e);
        }
        return out.toByteArray();
    }

    private static <T> T read(Class<T> type, Reader<T> reader, JsonSerde<T> json, String topic, byte[] data) {
        if (data.length > 0 && data[0] == '{') {
            return json.deserialize(topic, data);
        }
        if (data.length == 0 || data[0] != VERSION) {
            throw new SerializationException("cannot read " + type.getSimpleName() + " from " + topic + ": format version "
                    + (data.length == 0 ? "missing" : data[0]) + ", expected " + VERSION + " or JSON");
        }
        try {
            var in = new Input(data, 1);
            T value = reader.read(in);
            if (in.available() != 0) {
                throw new IOException(in.available() + " bytes left over");
            }
            return value;
        } catch (IOException | IllegalArgumentException e) {
            throw new SerializationException("cannot read " + type.getSimpleName() + " from " + topic + ": " + e.getMessage(), e);
        }
    }

    /** A growing byte array written in the format of {@link DataOutputStream}. Not thread-safe. */
    static final class Output {

        private byte[] bytes;
        private int length;

        Output(int capacity) {
            bytes = new byte[capacity];
        }

        void writeByte(int value) {
            ensure(1);
            bytes[length++] = (byte) value;
        }

        void writeBoolean(boolean value) {
            writeByte(value ? 1 : 0);
        }

        void writeInt(int value) {
            ensure(4);
            for (int shift = 24; shift >= 0; shift -= 8) {
                bytes[length++] = (byte) (value >>> shift);
            }
        }

        void writeLong(long value) {
            ensure(8);
            for (int shift = 56; shift >= 0; shift -= 8) {
                bytes[length++] = (byte) (value >>> shift);
            }
        }

        /**
         * Writes {@code value} as {@link DataOutputStream#writeUTF(String)} does: the length in bytes as an unsigned
         * short, then modified UTF-8, which writes NUL as two bytes and each half of a surrogate pair as three.
         *
         * @throws IllegalArgumentException when the encoded string is longer than 65,535 bytes
         */
        void writeUTF(String value) {
            int chars = value.length();
            int encoded = 0;
            for (int i = 0; i < chars; i++) {
                encoded += encodedLength(value.charAt(i));
            }
            if (encoded > 0xFFFF) {
                throw new IllegalArgumentException("string of " + encoded + " bytes is longer than 65,535 bytes");
            }
            ensure(2 + encoded);
            bytes[length++] = (byte) (encoded >>> 8);
            bytes[length++] = (byte) encoded;
            for (int i = 0; i < chars; i++) {
                char c = value.charAt(i);
                if (c >= 0x0001 && c <= 0x007F) {
                    bytes[length++] = (byte) c;
                } else if (c <= 0x07FF) {
                    bytes[length++] = (byte) (0xC0 | c >> 6);
                    bytes[length++] = (byte) (0x80 | c & 0x3F);
                } else {
                    bytes[length++] = (byte) (0xE0 | c >> 12);
                    bytes[length++] = (byte) (0x80 | c >> 6 & 0x3F);
                    bytes[length++] = (byte) (0x80 | c & 0x3F);
                }
            }
        }

        /** Returns the bytes of {@code c} in modified UTF-8: one for U+0001 to U+007F, two up to U+07FF and for NUL. */
        private static int encodedLength(char c) {
            if (c >= 0x0001 && c <= 0x007F) {
                return 1;
            }
            if (c <= 0x07FF) {
                return 2;
            }
            return 3;
        }

        byte[] toByteArray() {
            return Arrays.copyOf(bytes, length);
        }

        /** Returns the number of bytes written. */
        int length() {
            return length;
        }

        /** Drops what was written after the first {@code newLength} bytes. */
        void truncate(int newLength) {
            if (newLength < 0 || newLength > length) {
                throw new IllegalArgumentException("cannot truncate " + length + " bytes to " + newLength);
            }
            length = newLength;
        }

        private void ensure(int more) {
            if (length + more > bytes.length) {
                bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, length + more));
            }
        }
    }

    /** A reader of a byte array in the format of {@link DataInputStream}. Not thread-safe. */
    static final class Input {

        private final byte[] bytes;
        private int position;

        Input(byte[] bytes, int offset) {
            this.bytes = bytes;
            this.position = offset;
        }

        int available() {
            return bytes.length - position;
        }

        boolean readBoolean() throws IOException {
            require(1);
            return bytes[position++] != 0;
        }

        int readInt() throws IOException {
            return (int) readBigEndian(4);
        }

        long readLong() throws IOException {
            return readBigEndian(8);
        }

        private long readBigEndian(int count) throws IOException {
            require(count);
            long value = 0;
            for (int i = 0; i < count; i++) {
                value = value << 8 | bytes[position++] & 0xFF;
            }
            return value;
        }

        /** Reads a string that {@link DataOutputStream#writeUTF(String)} wrote. */
        String readUTF() throws IOException {
            require(2);
            int encoded = (bytes[position] & 0xFF) << 8 | bytes[position + 1] & 0xFF;
            require(2 + encoded);
            int start = position + 2;
            boolean ascii = true;
            for (int i = start; i < start + encoded; i++) {
                if (bytes[i] <= 0) {
                    ascii = false;
                    break;
                }
            }
            String value;
            if (ascii) {
                value = new String(bytes, start, encoded, StandardCharsets.ISO_8859_1);
            } else {
                // Modified UTF-8 differs from UTF-8, so anything but ASCII goes through DataInputStream, which throws
                // UTFDataFormatException for malformed input.
                value = new DataInputStream(new ByteArrayInputStream(bytes, position, 2 + encoded)).readUTF();
            }
            position = start + encoded;
            return value;
        }

        private void require(int count) throws IOException {
            if (available() < count) {
                throw new EOFException("needs " + count + " more bytes, " + available() + " left");
            }
        }
    }
}

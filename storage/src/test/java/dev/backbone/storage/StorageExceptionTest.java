package dev.backbone.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import org.junit.jupiter.api.Test;

class StorageExceptionTest {

    @Test
    void connectionAndRollbackStatesAreRetriable() {
        assertThat(new StorageException("read", new SQLException("connection refused", "08001")).retriable()).isTrue();
        assertThat(new StorageException("read", new SQLException("serialization failure", "40001")).retriable()).isTrue();
        assertThat(new StorageException("read", new SQLException("shutting down", "57P01")).retriable()).isTrue();
        assertThat(new StorageException("read", new SQLTransientConnectionException("pool timed out")).retriable()).isTrue();
    }

    @Test
    void constraintAndSyntaxStatesAreNotRetriable() {
        assertThat(new StorageException("write", new SQLException("check violation", "23514")).retriable()).isFalse();
        assertThat(new StorageException("read", new SQLException("syntax error", "42601")).retriable()).isFalse();
    }

    @Test
    void messageNamesOperationAndCause() {
        var error = new StorageException("cannot read product 42", new SQLException("connection refused", "08001"));

        assertThat(error.getMessage()).isEqualTo("cannot read product 42: connection refused");
    }
}

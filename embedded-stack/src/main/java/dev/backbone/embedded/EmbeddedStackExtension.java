package dev.backbone.embedded;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * A JUnit 5 extension that gives a test class one {@link EmbeddedStack}, started before the first test and closed after
 * the last. Test methods and constructors receive it as a parameter of type {@link EmbeddedStack},
 * {@link EmbeddedKafka} or {@link EmbeddedPostgresServer}. Register it with
 * {@code @ExtendWith(EmbeddedStackExtension.class)}.
 */
public final class EmbeddedStackExtension implements BeforeAllCallback, AfterAllCallback, ParameterResolver {

    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(EmbeddedStackExtension.class);

    @Override
    public void beforeAll(ExtensionContext context) {
        context.getStore(NAMESPACE).put("stack", EmbeddedStack.start());
    }

    @Override
    public void afterAll(ExtensionContext context) {
        EmbeddedStack stack = context.getStore(NAMESPACE).remove("stack", EmbeddedStack.class);
        if (stack != null) {
            stack.close();
        }
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext extension) {
        Class<?> type = parameter.getParameter().getType();
        return type == EmbeddedStack.class || type == EmbeddedKafka.class || type == EmbeddedPostgresServer.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext extension) {
        EmbeddedStack stack = stack(extension);
        Class<?> type = parameter.getParameter().getType();
        if (type == EmbeddedKafka.class) {
            return stack.kafka();
        }
        if (type == EmbeddedPostgresServer.class) {
            return stack.postgres();
        }
        return stack;
    }

    private static EmbeddedStack stack(ExtensionContext context) {
        ExtensionContext current = context;
        while (current != null) {
            EmbeddedStack stack = current.getStore(NAMESPACE).get("stack", EmbeddedStack.class);
            if (stack != null) {
                return stack;
            }
            current = current.getParent().orElse(null);
        }
        throw new IllegalStateException("no EmbeddedStack: register EmbeddedStackExtension on the test class");
    }
}

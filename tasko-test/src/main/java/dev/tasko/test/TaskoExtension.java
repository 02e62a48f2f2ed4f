package dev.tasko.test;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Hands each test that asks for one a fresh {@link TestLoop}, as a parameter, and checks it after
 * the test ({@link TestLoop#verify()}): the test fails if it left tasks unfinished or a failure
 * unobserved.
 *
 * <pre>{@code
 * @ExtendWith(TaskoExtension.class)
 * class HeaterTest {
 *   @Test
 *   void heater_belowTarget_switchesOnWithinASecond(TestLoop test) {
 *     Heater heater = new Heater(test.loop(), 21.0);
 *     test.runFor(Duration.ofSeconds(1));
 *     assertThat(heater.on()).isTrue();
 *     heater.stop();
 *     test.runUntilIdle();
 *   }
 * }
 * }</pre>
 *
 * <p>The {@code @BeforeEach} and {@code @AfterEach} methods of a test get the same {@code TestLoop}
 * as the test itself, named after the test method; the check runs after the {@code @AfterEach}
 * methods, so they may still cancel what the test started. A test that takes no {@code TestLoop}
 * is not checked. To keep the loop in a field instead, register a {@code TestLoop} directly with
 * {@code @RegisterExtension}.
 */
public final class TaskoExtension implements ParameterResolver, AfterEachCallback {
  private static final ExtensionContext.Namespace NAMESPACE =
      ExtensionContext.Namespace.create(TaskoExtension.class);

  /** Made by JUnit, through {@code @ExtendWith(TaskoExtension.class)}. */
  public TaskoExtension() {}

  /** Whether the parameter is a {@link TestLoop}. */
  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    return parameter.getParameter().getType() == TestLoop.class;
  }

  /**
   * The test's {@link TestLoop}, made at the first request.
   *
   * @throws ParameterResolutionException if asked for outside a test: by a constructor or a
   *     {@code @BeforeAll} method, which would share one loop among all the tests, unchecked
   */
  @Override
  public TestLoop resolveParameter(ParameterContext parameter, ExtensionContext context) {
    if (context.getTestMethod().isEmpty()) {
      throw new ParameterResolutionException("a TestLoop is made for each test: take it as a"
          + " parameter of the test method, or of a @BeforeEach or @AfterEach method, not of "
          + parameter.getDeclaringExecutable() + "; for a loop in a field, register a TestLoop"
          + " with @RegisterExtension");
    }
    String name = context.getTestMethod().get().getName();
    return context.getStore(NAMESPACE)
        .getOrComputeIfAbsent(TestLoop.class, key -> new TestLoop(name), TestLoop.class);
  }

  /** Checks the test's {@link TestLoop}, if it had one. */
  @Override
  public void afterEach(ExtensionContext context) {
    TestLoop test = context.getStore(NAMESPACE).remove(TestLoop.class, TestLoop.class);
    if (test != null) {
      test.verify();
    }
  }
}

/**
 * The test kit for programs written with tasko: {@link dev.tasko.test.TestLoop}, a loop on
 * virtual time with helpers to run it, and {@link dev.tasko.test.TaskoExtension}, which hands one
 * to each JUnit 5 test that asks for it. Both fail the test when it leaves tasks running or a
 * task's failure unobserved.
 */
module dev.tasko.test {
  requires transitive dev.tasko;
  requires transitive org.junit.jupiter.api;

  exports dev.tasko.test;
}

package dev.tasko;

import java.lang.invoke.VarHandle;
import java.util.function.Supplier;

/**
 * A field made on first use by whichever thread gets there first, after which every thread sees the
 * same value: the one place for that race. Lock-free: two threads may both make a value, and all
 * but the first to store it are dropped, so making one must have no side effect.
 */
final class SetOnce {
  private SetOnce() {}

  /**
   * The value of {@code field} in {@code owner}; if it is still null, sets it to {@code make}'s
   * value unless another thread set it first. Reads and sets with volatile semantics.
   */
  @SuppressWarnings("unchecked")
  static <T> T getOrSet(VarHandle field, Object owner, Supplier<? extends T> make) {
    T value = (T) field.getVolatile(owner);
    if (value != null) {
      return value;
    }
    T made = make.get();
    T witness = (T) field.compareAndExchange(owner, null, made);
    return witness == null ? made : witness;
  }
}

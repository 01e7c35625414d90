/**
 * The store, traced: a decorator around whichever store main.ts opened (SQLite,
 * PostgreSQL, a test's), so that no store implementation knows of tracing. Every
 * method called inside a traced request becomes a span, a child of that
 * request's span: `store.<method>`, with the database system and the operation
 * as attributes, an error status when it throws or its promise rejects. Calls
 * outside any request (a metrics scrape's count, readiness, start and shutdown)
 * make no span: a trace per scrape would bury the requests'.
 *
 * A Proxy rather than a subclass, so it fits any implementation: methods run on
 * the store itself (private fields and getters keep working), synchronous ones
 * stay synchronous, and properties that are not functions pass through.
 */
import { SpanKind, SpanStatusCode, context, trace, type Span, type Tracer } from '@opentelemetry/api';
import {
  ATTR_DB_OPERATION_NAME,
  ATTR_DB_SYSTEM_NAME,
  ATTR_ERROR_TYPE,
} from '@opentelemetry/semantic-conventions';

function failed(span: Span, error: unknown): void {
  const code = (error as { code?: unknown } | null)?.code;
  span.setAttribute(ATTR_ERROR_TYPE, typeof code === 'string' ? code : ((error as Error)?.name ?? 'Error'));
  span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.message });
  span.end();
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/** `store`, each method call inside a traced request a span of `tracer`; `system`: db.system.name (sqlite, postgresql). */
export function tracedStore<T extends object>(store: T, tracer: Tracer, system: string): T {
  const wrappers = new Map<PropertyKey, (...args: unknown[]) => unknown>();

  const wrap = (method: (...args: unknown[]) => unknown, name: string) =>
    function traced(...args: unknown[]): unknown {
      const parent = context.active();
      if (trace.getSpan(parent) === undefined) return method.apply(store, args);
      const span = tracer.startSpan(
        `store.${name}`,
        {
          kind: SpanKind.CLIENT,
          attributes: { [ATTR_DB_SYSTEM_NAME]: system, [ATTR_DB_OPERATION_NAME]: name },
        },
        parent,
      );
      let result: unknown;
      try {
        result = context.with(trace.setSpan(parent, span), () => method.apply(store, args));
      } catch (error) {
        failed(span, error);
        throw error;
      }
      if (!isThenable(result)) {
        span.end();
        return result;
      }
      return Promise.resolve(result).then(
        (value) => {
          span.end();
          return value;
        },
        (error: unknown) => {
          failed(span, error);
          throw error;
        },
      );
    };

  return new Proxy(store, {
    get(target, property) {
      // The store itself as the receiver: getters and private fields see their own object.
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function' || property === 'constructor') return value;
      let wrapper = wrappers.get(property);
      if (wrapper === undefined) {
        wrapper = wrap(value as (...args: unknown[]) => unknown, String(property));
        wrappers.set(property, wrapper);
      }
      return wrapper;
    },
  });
}

import type { Connector, ConnectorRegistry, FetchReportInput, FetchReportResult, ReportKind } from '../../functions/src/providers/index.js';

/**
 * The real connectors (real HTTP to the sandbox) with a hook around each report fetch, so a
 * test can hold a fetch until the job has timed out, or make one chunk fail.
 */
export type FetchHook = (kind: ReportKind, input: FetchReportInput, fetch: () => Promise<FetchReportResult>, connector: Connector) => Promise<FetchReportResult>;

export function hookedConnectors(real: ConnectorRegistry, hook: FetchHook): ConnectorRegistry {
  const wrap = (connector: Connector): Connector => ({
    providerId: connector.providerId,
    reportKinds: connector.reportKinds,
    fetchReport: (kind, input) => hook(kind, input, () => connector.fetchReport(kind, input), connector),
  });
  return { get: (id) => wrap(real.get(id)), has: (id) => real.has(id), all: () => real.all().map(wrap) };
}

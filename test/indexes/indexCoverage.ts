/**
 * Which index serves a query, by Firestore's rules: the emulator ignores indexes, so a
 * query without one works in every test and fails in production.
 *
 * - Equality filters (==, in, IS NULL) come first in a composite index, in any order; then
 *   the order-by fields in order (explicit ones, then inequality fields not ordered
 *   explicitly, lexicographically), each with its direction. The document id ends every
 *   index implicitly.
 * - Single-field indexes serve a query with at most one field in total, and queries with
 *   only equality filters (merged); a composite of exactly those equality fields does too. Collection scope has them automatically unless a field
 *   override replaces them; collection-group scope only through `fieldOverrides`.
 * - An index serves only queries of its own scope (collection or collection group).
 */

export type Scope = 'COLLECTION' | 'COLLECTION_GROUP';
export type Direction = 'ASCENDING' | 'DESCENDING';

export interface QueryShape {
  collectionGroup: string;
  scope: Scope;
  /** Field paths filtered by ==, in or IS NULL, sorted. */
  equalities: string[];
  /** Field paths filtered by array-contains(-any), sorted. */
  contains: string[];
  /** Field paths filtered by <, <=, >, >=, !=, not-in, IS NOT NULL, sorted. */
  inequalities: string[];
  /** Explicit order-by clauses, in order. */
  orderBy: { field: string; direction: Direction }[];
}

export interface IndexesFile {
  indexes: { collectionGroup: string; queryScope: Scope; fields: { fieldPath: string; order?: Direction; arrayConfig?: 'CONTAINS' }[] }[];
  fieldOverrides?: { collectionGroup: string; fieldPath: string; indexes: { order?: Direction; arrayConfig?: 'CONTAINS'; queryScope: Scope }[] }[];
}

const DOCUMENT_ID = '__name__';

interface FieldReference {
  fieldPath: string;
}
interface FilterProto {
  compositeFilter?: { op: string; filters: FilterProto[] };
  fieldFilter?: { field: FieldReference; op: string };
  unaryFilter?: { field: FieldReference; op: string };
}
export interface StructuredQueryProto {
  from: { collectionId?: string; allDescendants?: boolean }[];
  where?: FilterProto;
  orderBy?: { field: FieldReference; direction?: string }[];
}

const EQUALITY_OPS = new Set(['EQUAL', 'IN', 'IS_NULL', 'IS_NAN']);
const CONTAINS_OPS = new Set(['ARRAY_CONTAINS', 'ARRAY_CONTAINS_ANY']);

function flatten(filter: FilterProto | undefined): { field: string; op: string }[] {
  if (!filter) return [];
  if (filter.compositeFilter) {
    if (filter.compositeFilter.op !== 'AND') throw new Error(`${filter.compositeFilter.op} filters are not checked; add a rule for them`);
    return filter.compositeFilter.filters.flatMap(flatten);
  }
  const single = filter.fieldFilter ?? filter.unaryFilter;
  if (!single) return [];
  return [{ field: single.field.fieldPath, op: single.op }];
}

/** The shape of a query from its structured-query proto (what the SDK sends). */
export function shapeOf(query: StructuredQueryProto): QueryShape {
  const from = query.from[0];
  if (!from?.collectionId) throw new Error('kindless queries are not checked');
  const equalities = new Set<string>();
  const contains = new Set<string>();
  const inequalities = new Set<string>();
  for (const { field, op } of flatten(query.where)) {
    if (field === DOCUMENT_ID) continue;
    if (EQUALITY_OPS.has(op)) equalities.add(field);
    else if (CONTAINS_OPS.has(op)) contains.add(field);
    else inequalities.add(field);
  }
  return {
    collectionGroup: from.collectionId,
    scope: from.allDescendants ? 'COLLECTION_GROUP' : 'COLLECTION',
    equalities: [...equalities].sort(),
    contains: [...contains].sort(),
    inequalities: [...inequalities].sort(),
    orderBy: (query.orderBy ?? []).map((o) => ({ field: o.field.fieldPath, direction: o.direction === 'DESCENDING' ? 'DESCENDING' : 'ASCENDING' })),
  };
}

/** The index fields after the equality fields: explicit order-by, then unordered inequality fields. */
function orderFields(shape: QueryShape): { field: string; direction: Direction }[] {
  const explicit = shape.orderBy.filter((o) => !shape.equalities.includes(o.field));
  const ordered = new Set(explicit.map((o) => o.field));
  const implicit = shape.inequalities.filter((f) => !ordered.has(f)).map((field) => ({ field, direction: 'ASCENDING' as const }));
  const fields = [...explicit, ...implicit];
  // The document id closes every index in the direction of the last field.
  while (fields.at(-1)?.field === DOCUMENT_ID) fields.pop();
  return fields;
}

function singleFieldIndexes(file: IndexesFile, group: string, field: string, scope: Scope): Set<string> {
  const override = file.fieldOverrides?.find((o) => o.collectionGroup === group && o.fieldPath === field);
  if (!override) return scope === 'COLLECTION' ? new Set(['ASCENDING', 'DESCENDING', 'CONTAINS']) : new Set();
  return new Set(override.indexes.filter((i) => i.queryScope === scope).map((i) => i.arrayConfig ?? i.order ?? 'ASCENDING'));
}

function compositeServes(index: IndexesFile['indexes'][number], shape: QueryShape, order: { field: string; direction: Direction }[]): boolean {
  if (index.collectionGroup !== shape.collectionGroup || index.queryScope !== shape.scope) return false;
  const fields = index.fields.filter((f, i) => !(f.fieldPath === DOCUMENT_ID && i === index.fields.length - 1));
  const leading = shape.equalities.length + shape.contains.length;
  if (fields.length !== leading + order.length) return false;
  const head = fields.slice(0, leading);
  const eq = head.filter((f) => f.arrayConfig === undefined).map((f) => f.fieldPath).sort();
  const arr = head.filter((f) => f.arrayConfig === 'CONTAINS').map((f) => f.fieldPath).sort();
  if (eq.join('\n') !== shape.equalities.join('\n') || arr.join('\n') !== shape.contains.join('\n')) return false;
  return order.every((o, i) => fields[leading + i]?.fieldPath === o.field && (fields[leading + i]?.order ?? 'ASCENDING') === o.direction);
}

/**
 * Null when the indexes file serves the query; otherwise what is missing, in words and
 * as the index entry to add.
 */
export function missingIndex(shape: QueryShape, file: IndexesFile): { reason: string; add: unknown } | null {
  const order = orderFields(shape);
  const single = (field: string) => singleFieldIndexes(file, shape.collectionGroup, field, shape.scope);
  const wanted = (field: string, kind: string) => ({ collectionGroup: shape.collectionGroup, fieldPath: field, indexes: [{ [kind === 'CONTAINS' ? 'arrayConfig' : 'order']: kind, queryScope: shape.scope }] });

  const filterFields = shape.equalities.length + shape.contains.length;
  if (file.indexes.some((index) => compositeServes(index, shape, order))) return null;
  if (order.length === 0) {
    const lacking = [
      ...shape.equalities.filter((f) => !single(f).has('ASCENDING') && !single(f).has('DESCENDING')).map((f) => wanted(f, 'ASCENDING')),
      ...shape.contains.filter((f) => !single(f).has('CONTAINS')).map((f) => wanted(f, 'CONTAINS')),
    ];
    if (lacking.length === 0) return null;
    return { reason: `no ${shape.scope === 'COLLECTION_GROUP' ? 'collection-group ' : ''}single-field index on ${lacking.map((l) => l.fieldPath).join(', ')}`, add: { fieldOverrides: lacking } };
  }
  if (order.length === 1 && filterFields === 0) {
    const [only] = order;
    if (single(only!.field).has(only!.direction)) return null;
  }
  const add = {
    collectionGroup: shape.collectionGroup,
    queryScope: shape.scope,
    fields: [
      ...shape.equalities.map((fieldPath) => ({ fieldPath, order: 'ASCENDING' })),
      ...shape.contains.map((fieldPath) => ({ fieldPath, arrayConfig: 'CONTAINS' })),
      ...order.map((o) => ({ fieldPath: o.field, order: o.direction })),
    ],
  };
  if (order.length === 1 && filterFields === 0) {
    return { reason: `no ${shape.scope === 'COLLECTION_GROUP' ? 'collection-group ' : ''}single-field index on ${order[0]!.field} ${order[0]!.direction}`, add: { fieldOverrides: [wanted(order[0]!.field, order[0]!.direction)] } };
  }
  return { reason: 'no composite index with these fields in this order', add: { indexes: [add] } };
}

export function describeShape(shape: QueryShape): string {
  const parts = [
    ...shape.equalities.map((f) => `${f} ==`),
    ...shape.contains.map((f) => `${f} array-contains`),
    ...shape.inequalities.map((f) => `${f} range`),
    ...shape.orderBy.map((o) => `order by ${o.field} ${o.direction === 'DESCENDING' ? 'desc' : 'asc'}`),
  ];
  return `${shape.scope === 'COLLECTION_GROUP' ? 'collection group' : 'collection'} ${shape.collectionGroup}: ${parts.join(', ') || 'all documents'}`;
}

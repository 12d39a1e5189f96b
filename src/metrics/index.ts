export { Metrics, METRIC_NAMES } from './metrics';
export { graphqlMetricsPlugin } from './graphql-metrics.plugin';

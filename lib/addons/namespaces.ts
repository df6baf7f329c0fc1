import { Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { CHART_PROPS } from './common';

/** `00-namespaces`: every namespace the later files put objects into, so it sorts first. */
export class NamespacesChart extends Chart {
  static readonly ID = '00-namespaces';

  constructor(scope: Construct, namespaces: readonly string[]) {
    super(scope, NamespacesChart.ID, CHART_PROPS);
    for (const name of namespaces) {
      new kplus.Namespace(this, name, { metadata: { name, labels: { 'kubernetes.io/metadata.name': name } } });
    }
  }
}

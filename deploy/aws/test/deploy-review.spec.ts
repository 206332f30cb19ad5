import * as fs from 'node:fs';
import * as path from 'node:path';
import { installed, Json, ROOT, synth, Synthesized } from './synth';

/*
 * What an AWS engineer's review of the stack found (issue 20), each shown on the synthesized
 * template: things that would fail or break on deploy, security, operations and cost.
 */
interface Statement {
  Sid?: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}
const json = (value: unknown): string => JSON.stringify(value);
const statementsOf = (s: Synthesized, roleId: string): Statement[] =>
  s
    .ofType('AWS::IAM::Policy')
    .filter(([, p]) => json(p.Roles).includes(roleId))
    .flatMap(([, p]) => (p.PolicyDocument as { Statement: Statement[] }).Statement);
const templateOf = (s: Synthesized, script: string): Json => {
  const found = s.ofType('AWS::EC2::LaunchTemplate').filter(([, p]) => json(p).includes(script));
  expect(found).toHaveLength(1);
  return found[0][1].LaunchTemplateData as Json;
};
const idOf = (s: Synthesized, type: string, prefix: string): string => {
  const ids = Object.keys(s.resources).filter(
    (id) => id.startsWith(prefix) && s.resources[id].Type === type,
  );
  expect(ids).toHaveLength(1);
  return ids[0];
};

(installed ? describe : describe.skip)('PixpoolStack after the AWS review', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synth();
  }, 120_000);

  describe('would fail or break on deploy', () => {
    it('picks the image per role from the instance type: arm64 for Graviton, x86_64 otherwise', () => {
      const graviton = synth({ nodeInstanceType: 't4g.small', appInstanceType: 't3.small' });
      const imageOf = (script: string): string => json(templateOf(graviton, script).ImageId);
      const parameters = json(graviton.template.toJSON().Parameters);
      expect(parameters).toContain('al2023-ami-kernel-6.1-arm64');
      expect(parameters).toContain('al2023-ami-kernel-6.1-x86_64');
      const nodeParam = /"Ref":"([^"]+)"/.exec(imageOf('install-node.sh'))![1];
      const appParam = /"Ref":"([^"]+)"/.exec(imageOf('install-app.sh'))![1];
      const defaults = graviton.template.toJSON().Parameters as Record<string, { Default: string }>;
      expect(defaults[nodeParam].Default).toContain('arm64');
      expect(defaults[appParam].Default).toContain('x86_64');
    }, 120_000);

    it('RDS requires TLS with the value MySQL stores (1)', () => {
      s.template.hasResourceProperties('AWS::RDS::DBParameterGroup', {
        Parameters: { require_secure_transport: '1' },
      });
    });

    it('pre-provisioned nodes are created after the private subnets can reach out, and user-data retries', () => {
      const routes = s
        .ofType('AWS::EC2::Route')
        .filter(([id]) => id.includes('private'))
        .map(([id]) => id);
      expect(routes.length).toBeGreaterThan(0);
      for (const [id, props] of s.ofType('AWS::EC2::Instance')) {
        expect(s.resources[id].DependsOn).toEqual(expect.arrayContaining(routes));
        expect(json(props.UserData)).toContain('retry aws ssm get-parameter');
        expect(json(props.UserData)).toContain('retry aws s3 cp');
      }
    });

    it('the app is created after the nodes and deleted before them', () => {
      const appGroup = idOf(s, 'AWS::AutoScaling::AutoScalingGroup', 'App');
      const nodes = s.ofType('AWS::EC2::Instance').map(([id]) => id);
      expect(nodes).toHaveLength(3);
      expect(s.resources[appGroup].DependsOn).toEqual(expect.arrayContaining(nodes));
    });

    it('pre-provisioned nodes are pinned to launch template version 1: a new AMI does not replace them', () => {
      for (const [, props] of s.ofType('AWS::EC2::Instance'))
        expect((props.LaunchTemplate as Json).Version).toBe('1');
    });

    it('the app launches nodes with the version the stack names, not $Default', () => {
      const userData = json(templateOf(s, 'install-app.sh').UserData);
      const nodeTemplate = idOf(s, 'AWS::EC2::LaunchTemplate', 'NodeTemplate');
      expect(userData).toContain(
        `PIXPOOL_LAUNCH_TEMPLATE_VERSION='",{"Fn::GetAtt":["${nodeTemplate}","LatestVersionNumber"]}`,
      );
    });
  });

  describe('security', () => {
    const appRole = (): string => idOf(s, 'AWS::IAM::Role', 'AppRole');
    const nodeRole = (): string => idOf(s, 'AWS::IAM::Role', 'NodeRole');

    it('RunInstances only from the node launch template, only of the node type', () => {
      const run = statementsOf(s, appRole()).filter((st) =>
        [st.Action].flat().includes('ec2:RunInstances'),
      );
      expect(run.length).toBeGreaterThan(0);
      const template = idOf(s, 'AWS::EC2::LaunchTemplate', 'NodeTemplate');
      for (const st of run) {
        expect(json(st.Condition?.ArnEquals?.['ec2:LaunchTemplate'])).toContain(template);
      }
      const instance = run.find((st) => json(st.Resource).includes(':instance/'));
      expect(instance?.Condition?.StringEquals).toMatchObject({ 'ec2:InstanceType': 't3.small' });
      const fromTemplate = run.find((st) => json(st.Resource).includes(':image/'));
      expect(fromTemplate?.Condition?.Bool).toEqual({ 'ec2:IsLaunchTemplateResource': 'true' });
    });

    it('a monthly budget alarms the alarm topic', () => {
      const [[, budget]] = s.ofType('AWS::Budgets::Budget');
      expect(json(budget.NotificationsWithSubscribers)).toContain('"SubscriptionType":"SNS"');
    });

    it('the pool tag is unique to the stack: instances, template, IAM conditions, the app filter', () => {
      const tag = { Key: 'pixpool-pool', Value: 'Test' };
      for (const [, props] of s.ofType('AWS::EC2::Instance'))
        expect(props.Tags).toContainEqual(tag);
      expect(json(templateOf(s, 'install-node.sh').TagSpecifications)).toContain(json(tag));
      const conditions = json(statementsOf(s, appRole()).map((st) => st.Condition));
      expect(conditions).toContain('"aws:ResourceTag/pixpool-pool":"Test"');
      expect(conditions).toContain('"aws:RequestTag/pixpool-pool":"Test"');
      expect(conditions).not.toContain('cache-node');
      const userData = json(templateOf(s, 'install-app.sh').UserData);
      expect(userData).toContain("PIXPOOL_POOL_TAG='pixpool-pool=Test'");
      expect(userData).toMatch(/PIXPOOL_VPC_ID='",\{"Ref":"Vpc/);
    });

    it('both roles read the artifact object only, not the whole assets bucket', () => {
      for (const role of [appRole(), nodeRole()]) {
        const s3 = statementsOf(s, role).filter((st) =>
          [st.Action].flat().some((a) => a.startsWith('s3:')),
        );
        const assetReads = s3.filter((st) => json(st.Resource).includes('cdk-hnb659fds-assets'));
        expect(assetReads).toHaveLength(1);
        expect(assetReads[0].Action).toBe('s3:GetObject');
        expect(json(assetReads[0].Resource)).toMatch(/\/[0-9a-f]{64}\.zip"/);
      }
    });

    it('root volumes are encrypted gp3', () => {
      for (const script of ['install-node.sh', 'install-app.sh']) {
        expect(templateOf(s, script).BlockDeviceMappings).toEqual([
          {
            DeviceName: '/dev/xvda',
            Ebs: expect.objectContaining({ Encrypted: true, VolumeType: 'gp3' }),
          },
        ]);
      }
    });

    it('the app runs as its own database user; the master secret is only for creating it', () => {
      const attachments = s.ofType('AWS::SecretsManager::SecretTargetAttachment');
      const secrets = s.ofType('AWS::SecretsManager::Secret');
      const appUser = secrets.find(([, p]) => json(p.GenerateSecretString).includes('pixpool_app'));
      expect(appUser).toBeDefined();
      const appAttachment = attachments.find(([, p]) => json(p.SecretId).includes(appUser![0]));
      expect(appAttachment).toBeDefined();
      const userData = json(templateOf(s, 'install-app.sh').UserData);
      expect(userData).toContain(`PIXPOOL_DB_SECRET_ID='",{"Ref":"${appAttachment![0]}"}`);
      expect(userData).toMatch(/PIXPOOL_DB_MASTER_SECRET_ID='",\{"Ref":"DatabaseSecretAttachment/);
    });

    it('the load balancer drops invalid headers, redirects 80 to 443 and logs access', () => {
      const [[, lb]] = s.ofType('AWS::ElasticLoadBalancingV2::LoadBalancer');
      const attributes = lb.LoadBalancerAttributes as { Key: string; Value: unknown }[];
      expect(attributes).toContainEqual({
        Key: 'routing.http.drop_invalid_header_fields.enabled',
        Value: 'true',
      });
      expect(attributes).toContainEqual({ Key: 'access_logs.s3.enabled', Value: 'true' });
      s.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
        Port: 80,
        DefaultActions: [
          {
            Type: 'redirect',
            RedirectConfig: { Protocol: 'HTTPS', Port: '443', StatusCode: 'HTTP_301' },
          },
        ],
      });
    });
  });

  describe('operations and cost', () => {
    it('the load balancer and the group check liveness; readiness has its own alarm', () => {
      const groups = s.ofType('AWS::ElasticLoadBalancingV2::TargetGroup').map(([, p]) => p);
      expect(groups.map((g) => g.HealthCheckPath).sort()).toEqual([
        '/health/live',
        '/health/ready',
      ]);
      const alarms = s.ofType('AWS::CloudWatch::Alarm').map(([, p]) => p);
      const notReady = alarms.find((a) => String(a.AlarmDescription).includes('not ready'));
      expect(notReady).toMatchObject({ MetricName: 'UnHealthyHostCount' });
    });

    it('updates launch the new app before terminating the old, and a broken app fails the deploy', () => {
      const appGroup = idOf(s, 'AWS::AutoScaling::AutoScalingGroup', 'App');
      const group = s.resources[appGroup];
      expect(group.Properties).toMatchObject({ MinSize: '1', MaxSize: '2' });
      expect(group.UpdatePolicy).toMatchObject({
        AutoScalingRollingUpdate: { MinInstancesInService: 1, WaitOnResourceSignals: true },
      });
      expect(group.CreationPolicy).toMatchObject({ ResourceSignal: { Count: 1 } });
      expect(json(templateOf(s, 'install-app.sh').UserData)).toContain('cfn-signal');
    });

    it('logs go to CloudWatch with a retention; Session Manager instead of SSH', () => {
      const groups = s.ofType('AWS::Logs::LogGroup').map(([, p]) => p);
      expect(groups.map((g) => g.RetentionInDays)).toEqual([30, 30]);
      const longer = synth({ logRetentionDays: 90 });
      expect(longer.ofType('AWS::Logs::LogGroup').map(([, p]) => p.RetentionInDays)).toEqual([
        90, 90,
      ]);
      for (const [, role] of s.ofType('AWS::IAM::Role'))
        if (json(role).includes('ec2.amazonaws.com'))
          expect(json(role.ManagedPolicyArns)).toContain('AmazonSSMManagedInstanceCore');
      for (const script of ['install-node.sh', 'install-app.sh'])
        expect(templateOf(s, script).KeyName).toBeUndefined();
    }, 120_000);

    it('alarms: 5xx with FILL, healthy hosts, RDS storage, CPU credits, node status checks', () => {
      const alarms = s.ofType('AWS::CloudWatch::Alarm').map(([, p]) => p);
      const described = (text: string): Json[] =>
        alarms.filter((a) => String(a.AlarmDescription).includes(text));
      expect(json(described('5xx'))).toContain('FILL(target5xx, 0) + FILL(lb5xx, 0)');
      expect(described('No healthy app')[0]).toMatchObject({ MetricName: 'HealthyHostCount' });
      expect(described('free storage')[0]).toMatchObject({ MetricName: 'FreeStorageSpace' });
      expect(described('CPU credits').length).toBeGreaterThan(0);
      expect(described('status check')).toHaveLength(3);
    });

    it('S3 traffic takes the free gateway endpoint', () => {
      s.template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
        VpcEndpointType: 'Gateway',
        ServiceName: { 'Fn::Join': ['', ['com.amazonaws.', { Ref: 'AWS::Region' }, '.s3']] },
      });
    });
  });
});

/*
 * Issue 20, round two: instances boot without the internet. With `nat: false` (`-c nat=false`)
 * there is no NAT gateway, the private subnets have no route out, and every AWS API the instances
 * call has an interface endpoint (lib/network.ts), reachable from the app and node groups only.
 */
(installed ? describe : describe.skip)('PixpoolStack without a NAT gateway (nat=false)', () => {
  let isolated: Synthesized;
  let withNat: Synthesized;
  beforeAll(() => {
    isolated = synth({ nat: false });
    withNat = synth();
  }, 120_000);

  const NEEDED = [
    'ec2',
    'monitoring',
    'logs',
    'secretsmanager',
    'elasticloadbalancing',
    'cloudformation',
    'ssm',
    'ssmmessages',
    'ec2messages',
  ];
  const serviceOf = (props: Json): string => {
    const parts = (props.ServiceName as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
    return String(parts[parts.length - 1]).replace(/^\./, '');
  };
  const privateRouteTables = (s: Synthesized): string[] =>
    s
      .ofType('AWS::EC2::RouteTable')
      .map(([id]) => id)
      .filter((id) => id.includes('private'));

  it('the default keeps one NAT gateway and no interface endpoint', () => {
    expect(withNat.ofType('AWS::EC2::NatGateway')).toHaveLength(1);
    const types = withNat.ofType('AWS::EC2::VPCEndpoint').map(([, p]) => p.VpcEndpointType);
    expect(types).toEqual(['Gateway']);
    const routes = withNat.ofType('AWS::EC2::Route').filter(([, p]) => p.NatGatewayId);
    expect(routes).toHaveLength(privateRouteTables(withNat).length);
  });

  it('has no NAT gateway and no route from the private subnets to anywhere but S3', () => {
    expect(isolated.ofType('AWS::EC2::NatGateway')).toHaveLength(0);
    const tables = privateRouteTables(isolated);
    expect(tables).toHaveLength(2);
    for (const [, route] of isolated.ofType('AWS::EC2::Route'))
      expect(tables).not.toContain((route.RouteTableId as { Ref: string }).Ref);
    const [[, s3]] = isolated
      .ofType('AWS::EC2::VPCEndpoint')
      .filter(([, p]) => p.VpcEndpointType === 'Gateway');
    expect(serviceOf(s3)).toBe('s3');
    for (const table of tables) expect(s3.RouteTableIds).toContainEqual({ Ref: table });
    for (const [, subnet] of isolated.ofType('AWS::EC2::Subnet'))
      if (json(subnet.Tags).includes('Isolated')) expect(subnet.MapPublicIpOnLaunch).toBeFalsy();
  });

  it('every AWS API the instances call has an interface endpoint with private DNS on', () => {
    const interfaces = isolated
      .ofType('AWS::EC2::VPCEndpoint')
      .filter(([, p]) => p.VpcEndpointType === 'Interface')
      .map(([, p]) => p);
    expect(interfaces.map(serviceOf).sort()).toEqual([...NEEDED].sort());
    for (const endpoint of interfaces) {
      expect(endpoint.PrivateDnsEnabled).toBe(true);
      expect(json(endpoint.SubnetIds)).toContain('VpcprivateSubnet1');
    }
  });

  it('the endpoints let in 443 from the app and node groups only', () => {
    const [[sgId, sg]] = isolated
      .ofType('AWS::EC2::SecurityGroup')
      .filter(([id]) => id.startsWith('NetworkEndpointSg'));
    expect(sg.SecurityGroupIngress).toBeUndefined();
    const rules = isolated
      .ofType('AWS::EC2::SecurityGroupIngress')
      .filter(([, p]) => json(p.GroupId).includes(sgId))
      .map(([, p]) => `${json(p.SourceSecurityGroupId)}:${p.FromPort}-${p.ToPort}`);
    expect(rules).toHaveLength(2);
    expect(rules.join()).toMatch(/AppSg[^:]*:443-443/);
    expect(rules.join()).toMatch(/NodeSg[^:]*:443-443/);
    for (const [, endpoint] of isolated.ofType('AWS::EC2::VPCEndpoint'))
      if (endpoint.VpcEndpointType === 'Interface')
        expect(json(endpoint.SecurityGroupIds)).toContain(sgId);
  });

  it('nodes and the app are created once the endpoints exist', () => {
    const endpoints = isolated
      .ofType('AWS::EC2::VPCEndpoint')
      .filter(([, p]) => p.VpcEndpointType === 'Interface')
      .map(([id]) => id);
    const nodes = isolated.ofType('AWS::EC2::Instance').map(([id]) => id);
    expect(nodes).toHaveLength(3);
    const app = idOf(isolated, 'AWS::AutoScaling::AutoScalingGroup', 'App');
    for (const id of [...nodes, app])
      expect(isolated.resources[id].DependsOn).toEqual(expect.arrayContaining(endpoints));
  });

  it('instances and their subnets are private in both modes, and user data runs no npm or compiler', () => {
    for (const s of [isolated, withNat]) {
      for (const script of ['install-node.sh', 'install-app.sh']) {
        const userData = json(templateOf(s, script).UserData);
        expect(userData).not.toMatch(/\bnpm\b|\bnpx\b|gcc|node-gyp|\bmake\b/);
        expect(userData).toContain(`./${script}`);
      }
      for (const [, props] of s.ofType('AWS::EC2::Instance')) {
        expect(json(props.UserData)).not.toMatch(/\bnpm\b|gcc|node-gyp/);
        expect(json(props.NetworkInterfaces)).not.toContain('AssociatePublicIpAddress');
      }
    }
  });

  it('docs/deploy-aws.md lists exactly these endpoints and the flag', () => {
    const doc = fs.readFileSync(path.join(ROOT, 'docs', 'deploy-aws.md'), 'utf8');
    const section = doc.slice(doc.indexOf('**Without a NAT gateway**'));
    const listed = [...section.matchAll(/^\| `([a-z0-9]+)` +\|/gm)].map((m) => m[1]);
    expect(listed.sort()).toEqual([...NEEDED].sort());
    expect(doc).toContain('-c nat=false');
  });

  it('is refused with a looked-up VPC (whose endpoints the stack cannot know)', () => {
    expect(() => synth({ nat: false, vpcId: 'vpc-12345678' })).toThrow(/nat=false/);
  });
});
